/* The page's own view of its server: the refresh callback sends a heartbeat every tick;
   when none has arrived for STALE_MS the header shows DISCONNECTED instead of the last
   badge, since the page can no longer know what the account holds. Until one arrives
   again, prices, cards and tables are greyed with their age and every button is disabled
   with the reason (a click would go nowhere, silently). */
(function () {
    const STALE_MS = 6000;
    const STALE_PARTS = [
        "market-strip", "pnl-cards", "positions-table", "balances-table", "price-chart-box",
        "equity-chart-box"
    ];
    const OFFLINE = "offlineWas";

    function clock(ms) {
        return new Date(ms).toISOString().slice(11, 19) + " UTC";
    }

    function offline(heardAt, now) {
        const age = Math.round((now - heardAt) / 1000);
        const reason = "The dashboard's server has not answered for " + age + " s: " +
            "nothing can be sent until it does.";
        document.body.classList.add("page-disconnected");
        for (const id of STALE_PARTS) {
            const part = document.getElementById(id);
            if (part) {
                part.setAttribute("data-stale", "as of " + clock(heardAt) + ", " + age + " s ago");
            }
        }
        for (const row of document.querySelectorAll(".trade-buttons")) {
            row.setAttribute("data-offline", reason);
        }
        for (const button of document.querySelectorAll("button:not(.btn-close), input[type=checkbox]")) {
            if (!(OFFLINE in button.dataset)) {
                button.dataset[OFFLINE] = JSON.stringify([button.disabled, button.title]);
            }
            button.disabled = true;
            button.title = reason;
        }
    }

    function reactProps(element) {
        const key = Object.keys(element).find(name => name.startsWith("__reactProps"));
        return key ? element[key] : null;
    }

    function online() {
        if (!document.body.classList.contains("page-disconnected")) {
            return;
        }
        document.body.classList.remove("page-disconnected");
        for (const part of document.querySelectorAll("[data-stale]")) {
            part.removeAttribute("data-stale");
        }
        for (const button of document.querySelectorAll("[data-offline-was]")) {
            // what the page asks of the button now (a refresh may have changed it since),
            // else what it was before the server went quiet
            let [disabled, title] = JSON.parse(button.dataset[OFFLINE]);
            const props = reactProps(button);
            if (props) {
                disabled = Boolean(props.disabled);
                title = props.title || "";
            }
            delete button.dataset[OFFLINE];
            button.disabled = disabled;
            button.title = title;
        }
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        connection: {
            heard: function (heartbeat) {
                return Date.now();
            },
            check: function (_tick, heardAt) {
                const now = Date.now();
                const started = window.__dashboardStarted || (window.__dashboardStarted = now);
                const last = heardAt || started;
                if (now - last > STALE_MS) {
                    offline(last, now);
                    return "connection disconnected";
                }
                online();
                return "connection";
            }
        }
    });
})();
