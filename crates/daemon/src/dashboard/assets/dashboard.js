// flagd dashboard (docs/dashboard.md): live updates and steering. The
// pages work without it; it adds two things.
//
// Live: the page listens on flagd's change-event stream (the OFREP events
// of docs/flagd.md, with a ticket when auth is on). On each event it
// fetches the page again and swaps every element marked data-region for
// its new version — no polling: nothing is fetched without an event.
//
// Steering: buttons with data-steer POST to the steering API (JSON, so
// the API's Origin and content checks apply) after a confirmation.
'use strict';
(() => {
  const status = document.getElementById('live-status');
  const say = (text) => { if (status) status.textContent = text; };

  let refreshing = null;
  let again = false;
  async function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      do {
        again = false;
        try {
          const response = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
          if (!response.ok) { say(`update failed: HTTP ${response.status}`); continue; }
          const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
          for (const fresh of doc.querySelectorAll('[data-region][id]')) {
            const old = document.getElementById(fresh.id);
            if (old && old.innerHTML !== fresh.innerHTML) {
              // Keep focus where it was when the focused control survives.
              const focused = old.contains(document.activeElement) ? document.activeElement : null;
              old.replaceWith(document.importNode(fresh, true));
              if (focused && focused.dataset.steer) {
                const same = document.querySelector(`[data-steer="${CSS.escape(focused.dataset.steer)}"]`);
                if (same) same.focus();
              }
            }
          }
          bindSteering();
          say(`updated ${new Date().toLocaleTimeString()}`);
        } catch (e) {
          say(`update failed: ${e.message}`);
        }
      } while (again);
      refreshing = null;
    })();
    return refreshing;
  }

  function listen() {
    const url = document.body.dataset.events;
    if (!url || !window.EventSource) return;
    const source = new EventSource(url);
    // `data-live` on the body says whether the stream is open.
    source.addEventListener('open', () => { document.body.dataset.live = 'open'; say('live'); });
    source.addEventListener('message', () => refresh());
    source.addEventListener('error', () => {
      document.body.dataset.live = 'reconnecting';
      say('live updates reconnecting…');
    });
  }

  function bindSteering() {
    for (const button of document.querySelectorAll('button[data-steer]:not([data-bound])')) {
      button.dataset.bound = '1';
      button.addEventListener('click', async () => {
        if (!window.confirm(button.dataset.confirm || 'Steer this rollout?')) return;
        // The result line is looked up each time: a refresh replaces it.
        const show = (text) => {
          const result = document.querySelector('.steer-result');
          if (result) result.textContent = text;
          say(text);
        };
        button.disabled = true;
        try {
          const response = await fetch(button.dataset.steer, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: '{}',
          });
          const body = await response.json().catch(() => ({}));
          if (response.ok) {
            const done = `done: ${body.phase ?? ''} ${body.percentage ?? ''}%`;
            await refresh();
            show(done);
          } else {
            show(`refused (${response.status}): ${body.error?.message ?? response.statusText}`);
          }
        } catch (e) {
          show(`failed: ${e.message}`);
        } finally {
          button.disabled = false;
        }
      });
    }
  }

  bindSteering();
  listen();
})();
