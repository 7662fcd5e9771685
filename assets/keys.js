/* The ticket's keyboard (web/keys.py): B, S and C open the confirmation of BUY, SELL and
   CLOSE; Esc closes it (the dialog's own). A key never sends: the confirmation's button
   clicks the ticket's button, which runs the same checks as a click. Nothing happens while
   the trader types in a field, with a modifier held, while a dialog is open, or when the
   button is disabled (a trade running, a halted book, a server that does not answer). */
(function () {
    const BUTTONS = {b: ["buy", "trade-buy"], s: ["sell", "trade-sell"], c: ["close", "trade-close"]};

    function typing(target) {
        if (!target || !target.tagName) {
            return false;
        }
        const tag = target.tagName.toUpperCase();
        return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
    }

    document.addEventListener("keydown", function (event) {
        const key = (event.key || "").toLowerCase();
        if (!(key in BUTTONS) || event.repeat || event.ctrlKey || event.metaKey || event.altKey) {
            return;
        }
        if (typing(event.target) || document.querySelector(".modal.show")) {
            return;
        }
        const [target, buttonId] = BUTTONS[key];
        const button = document.getElementById(buttonId);
        const clientside = window.dash_clientside || {};
        if (!button || button.disabled || !clientside.set_props) {
            return;
        }
        event.preventDefault();
        clientside.set_props("key-choice", {data: {target: target, at: Date.now()}});
    });

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        keys: {
            send: function (clicks, choice) {
                const ids = {buy: "trade-buy", sell: "trade-sell", close: "trade-close"};
                const button = choice && document.getElementById(ids[choice.target]);
                if (clicks && button && !button.disabled) {
                    button.click();
                }
                return false;
            }
        }
    });
})();
