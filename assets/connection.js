/* The page's own view of its server: the refresh callback sends a heartbeat every tick;
   when none has arrived for STALE_MS the header shows DISCONNECTED instead of the last
   badge, since the page can no longer know what the account holds. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    connection: {
        heard: function (heartbeat) {
            return Date.now();
        },
        check: function (_tick, heardAt) {
            const STALE_MS = 6000;
            const started = window.__dashboardStarted || (window.__dashboardStarted = Date.now());
            const last = heardAt || started;
            return Date.now() - last > STALE_MS ? "connection disconnected" : "connection";
        }
    }
});
