"""The requests a browser tab sends, built from the server's own /_dash-dependencies (what
the Dash renderer reads too)."""

from __future__ import annotations


def refresh_payload(
    dependencies: list[dict], symbol: str = "ETH/USDT", seen: dict | None = None
) -> dict:
    """The request a tab sends on a refresh tick; `seen` is what the tab last received
    (the fingerprints in its store), None for a tab that has received nothing yet."""
    spec = next(d for d in dependencies if "positions-table.data" in d["output"])
    outputs = []
    for part in spec["output"].strip(".").split("..."):
        component, prop = part.split("@")[0].rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    values = {("refresh", "n_intervals"): 1, ("symbol-select", "value"): symbol}
    return {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in spec["inputs"]],
        "changedPropIds": ["refresh.n_intervals"],
        "state": [{**s, "value": seen} for s in spec["state"]],
    }
