"""The page's ticks share what they read within the second; a tab's own action reads now."""

from __future__ import annotations

from web.tick_memo import TickMemo


def test_ticks_share_an_answer_and_an_action_works_it_out_afresh():
    loads: list[int] = []

    def load() -> int:
        loads.append(len(loads) + 1)
        return loads[-1]

    memo = TickMemo(seconds=60)
    assert memo.get("eth", load) == 1
    assert memo.get("eth", load) == 1  # another tab's tick: the same answer, not read again
    assert memo.get("btc", load) == 2  # other arguments, their own answer
    assert memo.get("eth", load, fresh=True) == 3  # a keystroke, a cancel: read now
    assert memo.get("eth", load) == 3  # and kept for the ticks that follow

    expired = TickMemo(seconds=0)
    assert expired.get("eth", load) == 4
    assert expired.get("eth", load) == 5  # older than its time: read again
