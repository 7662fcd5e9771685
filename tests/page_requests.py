"""The requests a browser tab sends, built from the server's own /_dash-dependencies (what
the Dash renderer reads too). The tests and the benchmarks share them."""

from __future__ import annotations

import copy


def callback_request(spec: dict, values: dict, state: dict, changed: str) -> dict:
    """The body the Dash renderer posts for the callback `spec` (one entry of
    /_dash-dependencies): `values` and `state` map (component id, property) to a value."""
    outputs = []
    for part in spec["output"].strip(".").split("..."):
        component, prop = part.split("@")[0].rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    multi = spec["output"].startswith("..")  # "..a.b...c.d..": a list of outputs
    return {
        "output": spec["output"],
        "outputs": outputs if multi else outputs[0],  # one output goes alone, not in a list
        "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in spec["inputs"]],
        "changedPropIds": [changed],
        "state": [{**s, "value": state.get((s["id"], s["property"]))} for s in spec["state"]],
    }


def refresh_payload(
    dependencies: list[dict],
    symbol: str = "ETH/USDT",
    seen: dict | None = None,
    page: str = "trading",
) -> dict:
    """The request a tab sends on a refresh tick; `seen` is what the tab last received
    (what its store holds), None for a tab that has received nothing yet; `page` the page
    tab it shows."""
    spec = next(d for d in dependencies if "positions-table.data" in d["output"])
    shown = {("refresh", "n_intervals"): 1, ("symbol-select", "value"): symbol}
    shown[("page-tabs", "active_tab")] = page
    return callback_request(
        spec, shown, {**shown, ("refresh-seen", "data"): seen}, "refresh.n_intervals"
    )


def received(held, sent):
    """What a tab holds after receiving `sent` for a property holding `held`: the value,
    or a Dash Patch (its JSON) applied as the renderer applies it (we send assignments)."""
    if not (isinstance(sent, dict) and "__dash_patch_update" in sent):
        return sent
    held = copy.deepcopy(held)
    for operation in sent["operations"]:
        assert operation["operation"] == "Assign", operation
        *path, last = operation["location"]
        target = held
        for step in path:
            target = target[step]
        target[last] = operation["params"]["value"]
    return held
