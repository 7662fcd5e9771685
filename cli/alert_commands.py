"""The alert-test command: a test message to every ALERT_URLS address, and how each went.

Exit codes: 0 every address took the message; 1 one did not; 2 no ALERT_URLS."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cli.render import to_json
from core.service import InputError

if TYPE_CHECKING:  # the type only: core.insights.views would load pandas
    from core.insights.views import DeliveryResult


def alert_test(args: argparse.Namespace, settings, build_engine) -> int:
    engine = build_engine(settings)
    try:
        outcomes = engine.service.alert_test.send()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.close()
    print(to_json(alert_test_json(outcomes)) if args.json else alert_test_text(outcomes))
    return 0 if all(outcome.delivered for outcome in outcomes) else 1


def alert_test_json(results: list[DeliveryResult]) -> dict:
    return {
        "ok": all(r.delivered for r in results),
        "results": [
            {"target": r.target, "delivered": r.delivered, "detail": r.detail} for r in results
        ],
    }


def alert_test_text(results: list[DeliveryResult]) -> str:
    lines = [
        f"{'delivered' if r.delivered else 'FAILED':9}  {r.target}"
        + ("" if r.delivered else f": {r.detail}")
        for r in results
    ]
    sent = sum(r.delivered for r in results)
    lines.append(f"test alert delivered to {sent} of {len(results)} addresses")
    return "\n".join(lines)


HANDLERS = {"alert-test": alert_test}
