"""``qatysu export questions --meeting ID | --report ID --format csv|xlsx [--output FILE]``.

The questions residents sent for a meeting (or about a report): question text, language, time (UTC) and the
asker's settlement; no names, phones or Telegram ids.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings


def export_questions(settings: Settings, args: argparse.Namespace, with_db) -> int:
    from bot.services.reports import ReportService, write_questions_csv, write_questions_xlsx
    from storage.models import Meeting, Report

    meeting_id, report_id = getattr(args, "meeting", None), getattr(args, "report", None)
    if (meeting_id is None) == (report_id is None):
        print("usage: qatysu export questions --meeting ID | --report ID [--format csv|xlsx] [--output FILE]",
              file=sys.stderr)
        return 2
    what = f"meeting-{meeting_id}" if meeting_id is not None else f"report-{report_id}"
    output: Path = args.output or Path(f"questions-{what}.{args.format}")

    async def work(sessions):
        async with sessions() as s:
            found = await s.get(Meeting, meeting_id) if meeting_id is not None else await s.get(Report, report_id)
        if found is None:
            return None
        return await ReportService(sessions).questions(meeting_id=meeting_id, report_id=report_id)

    rows = asyncio.run(with_db(settings, work))
    if rows is None:
        print(f"{what.replace('-', ' ')} not found", file=sys.stderr)
        return 1
    try:
        (write_questions_xlsx if args.format == "xlsx" else write_questions_csv)(rows, output)
    except OSError as exc:
        print(f"{output}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(rows)} questions written to {output} (times in UTC; no names or phones)")
    return 0
