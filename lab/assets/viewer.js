// The turnstile loop viewer: steps through a recording turn by turn, poll by poll.
//
// The page holds the recording packed by `turnstile_lab::view` (events as a flat
// array of six numbers each: code, time, and up to four arguments). On load one pass
// splits the events into turns and steps ("frames": the reactor's part of a turn, then
// one per poll) and keeps a checkpoint of the loop's state every CHECKPOINT frames;
// going to any frame restores the checkpoint before it and replays at most that many
// frames, so a step is instant however long the recording.
"use strict";
(function () {
  const T0 = performance.now();
  const R = JSON.parse(document.getElementById("recording").textContent);
  const EV = R.ev;
  const N = EV.length / 6;
  const STRIDE = 6;
  const CHECKPOINT = 256;
  // Event codes, as `view.rs` packs them.
  const TURN_START = 0, TURN_END = 1, POLL_START = 2, POLL_END = 3, WAKE = 4,
    COALESCED = 5, PARK_START = 6, PARK_END = 7, IO = 8, TIMERS = 9, STALL = 10,
    YIELDED = 11, SPAWNED = 12, TIMER_SET = 13;
  const SOURCES = ["itself", "a task", "another thread", "I/O", "a timer"];
  const SOURCE_KEYS = ["self", "local", "remote", "io", "timer"];
  const code = (i) => EV[i * STRIDE];
  const at = (i) => EV[i * STRIDE + 1];
  const a = (i) => EV[i * STRIDE + 2];
  const b = (i) => EV[i * STRIDE + 3];
  const c = (i) => EV[i * STRIDE + 4];
  const d = (i) => EV[i * STRIDE + 5];

  const tasks = new Map(R.tasks.map((t) => [t[0], { name: t[1], at: t[2] }]));
  function taskLabel(id) {
    if (id === 0) return "block_on";
    const t = tasks.get(id);
    return "task " + id + (t && t.name ? " (" + t.name + ")" : "");
  }
  function siteName(s) {
    if (s < 0) return null;
    const x = R.sites[s];
    if (!x) return "site " + s;
    return x[1] ? x[1] + " @ " + x[0] : x[0];
  }
  // A socket's wait site ("tcp read from 127.0.0.1:5432") and the readiness it waits for.
  function socketOf(s) {
    if (s < 0 || !R.sites[s]) return null;
    const label = R.sites[s][1] || "";
    if (!/^(tcp|udp|unix)/.test(label)) return null;
    const dir = /write|send|connect/.test(label) ? "writable" : "readable";
    return { label, dir };
  }
  // A label cut to `n` characters, for the boxes of the wake arrows.
  const short = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);
  function fmt(ns) {
    if (ns < 1e3) return Math.round(ns) + " ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(1) + " µs";
    if (ns < 1e9) return (ns / 1e6).toFixed(1) + " ms";
    return (ns / 1e9).toFixed(2) + " s";
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]);
  }

  // ---- one pass: turns, frames, and what each wait and each poll resumed from ----
  const tFirstFrame = [], tNumber = [], tStart = [], tEnd = [], tPark = [], tStall = [];
  const fStart = [], fEnd = [], fTurn = [], fKind = []; // kind: 0 reactor, 1 poll, 2 idle
  const resumeSite = new Int32Array(N).fill(-1); // at a PollStart: the site it resumed from
  const resumeStack = new Int32Array(N).fill(-1);
  const waitSite = new Int32Array(N).fill(-1); // at a Wake: where its target waited
  const spawnedAt = new Map(); // turn index -> tasks queued before it without a wake
  const waitDue = new Float64Array(N).fill(-1); // at a wait: its last timer's deadline
  {
    const lastSite = new Map(), lastStack = new Map(), lastDue = new Map();
    const queued = new Set();
    let turn = -1, frameOpen = false, parkAt = 0, inPoll = false, skipped = 0;
    const closeFrame = (end) => {
      if (frameOpen) { fEnd[fEnd.length] = end; frameOpen = false; }
    };
    const openFrame = (i, kind) => {
      fStart.push(i); fTurn.push(turn); fKind.push(kind); frameOpen = true;
    };
    for (let i = 0; i < N; i++) {
      const k = code(i);
      if (turn < 0 && k !== TURN_START) {
        if (k === TIMER_SET && b(i) >= 0) lastDue.set(b(i), at(i) + c(i));
        else if (k !== SPAWNED) skipped++; // a spawn before the first turn: queued below
        continue;
      }
      switch (k) {
        case TURN_START:
          closeFrame(i);
          turn = tNumber.length;
          tNumber.push(a(i)); tStart.push(at(i)); tEnd.push(at(i)); tPark.push(0); tStall.push(0);
          tFirstFrame.push(fStart.length);
          break;
        case TURN_END:
          tEnd[turn] = at(i);
          if (tFirstFrame[turn] === fStart.length) openFrame(i, 2);
          closeFrame(i + 1);
          break;
        case POLL_START: {
          closeFrame(i);
          openFrame(i, 1);
          inPoll = true;
          const t = a(i);
          resumeSite[i] = lastSite.has(t) ? lastSite.get(t) : -1;
          resumeStack[i] = lastStack.has(t) ? lastStack.get(t) : -1;
          if (!queued.has(t) && t !== 0) {
            if (!spawnedAt.has(turn)) spawnedAt.set(turn, []);
            spawnedAt.get(turn).push(t);
          }
          queued.delete(t);
          break;
        }
        case POLL_END:
          inPoll = false;
          if (a(i) === 0 && b(i) === 0) queued.delete(0);
          if (b(i) === 0 && lastDue.has(a(i))) waitDue[i] = lastDue.get(a(i));
          break;
        case YIELDED:
          lastSite.set(a(i), b(i)); lastStack.set(a(i), c(i));
          if (lastDue.has(a(i))) waitDue[i] = lastDue.get(a(i));
          break;
        case SPAWNED:
          queued.add(a(i));
          if (!frameOpen && !inPoll) openFrame(i, 0);
          break;
        case TIMER_SET:
          if (b(i) >= 0) lastDue.set(b(i), at(i) + c(i));
          if (!frameOpen && !inPoll) openFrame(i, 0);
          break;
        case WAKE:
          waitSite[i] = lastSite.has(a(i)) ? lastSite.get(a(i)) : -1;
          queued.add(a(i));
          if (!frameOpen) openFrame(i, 0);
          break;
        case PARK_START:
          parkAt = at(i);
          if (!frameOpen) openFrame(i, 0);
          break;
        case PARK_END:
          tPark[turn] += at(i) - parkAt;
          break;
        case STALL:
          tStall[turn] = 1;
          break;
        default:
          if (!frameOpen && !inPoll) openFrame(i, 0);
      }
    }
    closeFrame(N);
    if (skipped > 0) {
      document.getElementById("notice").textContent +=
        skipped + " events before the first whole turn are not shown. ";
    }
  }
  // The wake that will end each wait: looked up from the end of the recording.
  const waitEndSrc = new Int8Array(N).fill(-1), waitEndBy = new Int32Array(N).fill(-1);
  const waitEndAt = new Float64Array(N).fill(-1);
  {
    const next = new Map();
    for (let i = N - 1; i >= 0; i--) {
      const k = code(i);
      if (k === WAKE) next.set(a(i), i);
      else if (k === YIELDED || (k === POLL_END && b(i) === 0)) {
        const w = next.get(a(i));
        if (w !== undefined) { waitEndSrc[i] = b(w); waitEndBy[i] = c(w); waitEndAt[i] = at(w); }
      } else if (k === POLL_START) next.delete(a(i));
    }
  }
  const F = fStart.length, TN = tNumber.length;

  // ---- the loop's state, replayed ----
  const COUNTERS = [
    ["turns", "turns"], ["polls", "task polls"], ["main_polls", "block_on polls"],
    ["yields", "yields (Pending)"], ["budget_yields", "budget yields"],
    ["spawns", "tasks spawned"], ["completions", "tasks finished"], ["wakes", "wakes"], ["wakes_self", "  self"],
    ["wakes_local", "  local"], ["wakes_remote", "  remote"], ["wakes_io", "  I/O"],
    ["wakes_timer", "  timer"], ["wakes_coalesced", "  coalesced"], ["parks", "parks"],
    ["io_events", "I/O events"], ["timers_fired", "timers fired"], ["stalls", "stalls"],
  ];
  function fresh() {
    const counters = {};
    COUNTERS.forEach(([k]) => (counters[k] = 0));
    return { queue: [], spawned: new Set(), waiting: new Map(), polling: -1, c: counters };
  }
  function copy(s) {
    return { queue: s.queue.slice(), spawned: new Set(s.spawned), waiting: new Map(s.waiting),
      polling: s.polling, c: Object.assign({}, s.c) };
  }
  function enqueue(s, t) { if (!s.queue.includes(t)) s.queue.push(t); }
  function apply(s, i) {
    const C = s.c;
    switch (code(i)) {
      case TURN_START: {
        C.turns++;
        break;
      }
      case POLL_START: {
        const t = a(i);
        const q = s.queue.indexOf(t);
        if (q >= 0) s.queue.splice(q, 1);
        s.spawned.delete(t);
        s.polling = t;
        if (t === 0) C.main_polls++; else C.polls++;
        break;
      }
      case POLL_END: {
        const t = a(i);
        s.polling = -1;
        if (b(i)) { s.waiting.delete(t); if (t !== 0) C.completions++; }
        else {
          if (t !== 0) C.yields++;
          if (!s.queue.includes(t) && !s.waiting.has(t)) s.waiting.set(t, i);
        }
        break;
      }
      case YIELDED:
        if (d(i)) C.budget_yields++;
        if (!s.queue.includes(a(i))) s.waiting.set(a(i), i);
        break;
      case WAKE:
      case COALESCED: {
        C.wakes++;
        C["wakes_" + SOURCE_KEYS[b(i)]]++;
        if (code(i) === COALESCED) { C.wakes_coalesced++; break; }
        s.waiting.delete(a(i));
        enqueue(s, a(i));
        break;
      }
      case SPAWNED: C.spawns++; enqueue(s, a(i)); s.spawned.add(a(i)); break;
      case PARK_START: C.parks++; break;
      case IO: C.io_events += a(i); break;
      case TIMERS: C.timers_fired += a(i); break;
      case STALL: C.stalls++; break;
    }
  }
  function applyFrame(s, f) {
    if (fStart[f] < N && code(fStart[f]) === TURN_START) apply(s, fStart[f]);
    const sp = spawnedAt.get(fTurn[f]);
    if (sp && f === tFirstFrame[fTurn[f]]) sp.forEach((t) => { enqueue(s, t); s.spawned.add(t); });
    for (let i = fStart[f]; i < fEnd[f]; i++) if (code(i) !== TURN_START) apply(s, i);
  }
  // Events between a turn's start and its first frame belong to that frame.
  for (let t = 0; t < TN; t++) {
    const f = tFirstFrame[t];
    if (f < F) {
      let i = fStart[f];
      while (i > 0 && code(i - 1) === TURN_START) i--;
      fStart[f] = i;
    }
  }
  const checkpoints = [];
  {
    const s = fresh();
    for (let f = 0; f < F; f++) {
      if (f % CHECKPOINT === 0) checkpoints.push(copy(s));
      applyFrame(s, f);
    }
  }
  let cur = -1, state = null, before = null;
  function stateAt(f) {
    if (state && f === cur + 1) {
      before = copy(state);
      applyFrame(state, f);
      return state;
    }
    const base = Math.floor(f / CHECKPOINT);
    const s = copy(checkpoints[base]);
    for (let g = base * CHECKPOINT; g < f; g++) applyFrame(s, g);
    before = copy(s);
    applyFrame(s, f);
    return s;
  }

  // ---- drawing ----
  const $ = (id) => document.getElementById(id);
  $("runtime").textContent = R.runtime + (R.origin === "flight" ? " (flight recorder file)" : "");
  $("turn-count").textContent = TN;
  $("step-count").textContent = F;
  if (R.dropped > 0) {
    $("notice").textContent += "The recording kept its last " + R.limit + " events: " +
      R.dropped + " earlier ones were cut, so the counters start where it starts. ";
  }
  if (R.origin === "flight") {
    $("notice").textContent += "A flight recorder's file: no await sites, stacks or coalesced wakes. ";
  }

  function card(t, extra) {
    const info = tasks.get(t);
    const where = t === 0 ? (info && info.at ? "block_on at " + info.at : "the block_on future")
      : info && info.at ? "spawned at " + info.at : "";
    return '<div class="card' + (t === 0 ? " main" : "") + '" data-task="' + t + '">' +
      '<span class="id">' + esc(taskLabel(t)) + "</span>" +
      (where ? '<span class="at">' + esc(where) + "</span>" : "") + (extra || "") + "</div>";
  }
  function stackList(stack, site) {
    const frames = stack >= 0 && R.stacks[stack] ? R.stacks[stack] : [];
    const items = frames.map((fr) => "<li>" + esc(fr) + "</li>");
    const leaf = siteName(site);
    if (leaf) items.push('<li class="leaf">' + esc(leaf) + "</li>");
    return items.length ? '<ol class="stack">' + items.join("") + "</ol>" : "";
  }
  // What a wait (the Yielded or PollEnd event `i`) waits for, from the wake that ends it.
  function waitKind(i) {
    const src = waitEndSrc[i];
    const site = code(i) === YIELDED ? b(i) : -1;
    const label = site >= 0 && R.sites[site] ? R.sites[site][1] || "" : "";
    if (src === 4 || (src < 0 && waitDue[i] >= 0)) {
      const due = waitDue[i] >= 0 ? "due at +" + fmt(waitDue[i]) : "";
      const fired = src === 4 ? "it fired at +" + fmt(waitEndAt[i]) : "";
      return ["timer", "a timer" + (due || fired ? " (" + [due, fired].filter((x) => x).join("; ") + ")" : "")];
    }
    const sock = socketOf(site);
    if (src === 3 || (src < 0 && sock)) {
      return ["socket", sock ? "a socket to be " + sock.dir + ": " + sock.label : "a socket"];
    }
    if (src === 1 || src === 0) {
      const by = waitEndBy[i];
      return ["task", by >= 0 ? "another task: " + taskLabel(by) : "another task"];
    }
    if (src === 2) return ["foreign", "something foreign: another thread"];
    return ["foreign", label ? "something foreign: " + label : "a wake that never came in this recording"];
  }
  function drawQueue(s) {
    const q = s.queue.map((t) => card(t, s.spawned.has(t) ? '<span class="at">newly spawned</span>' : ""));
    $("queue").innerHTML = q.length ? q.join("") : '<span class="empty">empty</span>';
  }
  function drawWaiting(s) {
    const groups = new Map();
    for (const [t, i] of s.waiting) {
      const [kind, what] = waitKind(i);
      const site = code(i) === YIELDED ? b(i) : -1;
      const key = kind + "|" + what;
      if (!groups.has(key)) groups.set(key, { what, cards: [] });
      groups.get(key).cards.push(card(t, site >= 0 ? '<span class="at">at ' + esc(siteName(site)) + "</span>" : ""));
    }
    const html = [];
    for (const g of groups.values()) {
      html.push('<div class="group"><h3>waiting for ' + esc(g.what) + '</h3><div class="cards">' + g.cards.join("") + "</div></div>");
    }
    $("waiting").innerHTML = html.length ? html.join("") : '<span class="empty">no task waits</span>';
  }
  function drawPolled(f) {
    const el = $("polled");
    if (fKind[f] !== 1) { el.className = "empty"; el.innerHTML = "nothing: the loop is not polling in this step"; return; }
    const s0 = fStart[f];
    let i = s0;
    while (code(i) !== POLL_START) i++;
    const t = a(i);
    let end = -1, yielded = -1, stall = -1, woke = [];
    const spawns = [], armed = [];
    for (let j = i; j < fEnd[f]; j++) {
      const k = code(j);
      if (k === POLL_END && end < 0) end = j;
      if (k === YIELDED) yielded = j;
      if (k === STALL) stall = j;
      if ((k === WAKE || k === COALESCED) && c(j) === t) woke.push(j);
      if (k === SPAWNED) spawns.push(j);
      if (k === TIMER_SET) armed.push(j);
    }
    const done = end >= 0 && b(end) === 1;
    const dur = end >= 0 ? at(end) - at(i) : 0;
    let out = '<div class="lines">';
    const from = resumeSite[i];
    out += "resumed from: " + esc(from >= 0 ? siteName(from) : "its start (first poll)") + "<br>";
    if (done) out += 'returned <span class="outcome ready">Ready</span> after ' + fmt(dur);
    else {
      out += 'returned <span class="outcome pending">Pending</span> after ' + fmt(dur);
      if (yielded >= 0) {
        out += "<br>stopped at: " + esc(siteName(b(yielded)) || "a future that names no site");
        if (d(yielded)) out += " <b>(the cooperative budget made it yield)</b>";
      }
    }
    for (const j of spawns) {
      const info = tasks.get(a(j));
      out += '<br><span class="spawn" data-task="' + a(j) + '">spawned ' + esc(taskLabel(a(j))) +
        (info && info.at ? " at " + esc(info.at) : "") + "</span>";
    }
    for (const j of armed) out += '<br><span class="timer-set">armed a timer due in ' + fmt(c(j)) + " (at +" + fmt(at(j) + c(j)) + ")</span>";
    if (stall >= 0) out += '<br><span class="outcome stall">STALL: ' + fmt(c(stall) || dur) + " without yielding</span>";
    out += "</div>";
    const stack = yielded >= 0 ? stackList(c(yielded), b(yielded)) : done ? "" : stackList(resumeStack[i], from);
    el.className = "";
    el.innerHTML = card(t, (stack ? '<div class="at">async stack:</div>' + stack : "") + out);
  }
  function wakeSource(j) {
    const src = b(j), by = c(j);
    if (src === 0) return "itself";
    if (src === 1) return by >= 0 ? taskLabel(by) : "the loop";
    if (src === 3) return "I/O (socket)";
    return ["", "", "remote thread", "", "timer"][src];
  }
  function drawWakes(f) {
    const rows = [];
    for (let j = fStart[f]; j < fEnd[f]; j++) {
      const k = code(j);
      if (k === WAKE || k === COALESCED) rows.push(j);
    }
    const svg = $("wakes");
    // An I/O wake names its socket: the one its task waited on (the site it stopped at).
    const sockets = rows.map((j) => (b(j) === 3 ? socketOf(waitSite[j]) : null));
    const ys = [];
    let h = 6;
    rows.forEach((j, n) => { ys.push(h); h += sockets[n] ? 42 : 28; });
    h = Math.max(30, h);
    svg.setAttribute("height", h);
    let out = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker></defs>';
    if (!rows.length) out += '<text x="4" y="20" fill="#9e9e9e">no wake</text>';
    rows.forEach((j, n) => {
      const y = ys[n];
      const co = code(j) === COALESCED;
      const sock = sockets[n];
      out += '<g class="wake" data-source="' + SOURCE_KEYS[b(j)] + '" data-target="' + a(j) + '" data-coalesced="' + co + '"' +
        (sock ? ' data-socket="' + esc(sock.label) + '" data-direction="' + sock.dir + '"' : "") + ">" +
        (sock ? '<text class="socket" x="8" y="' + (y + 35) + '" fill="#6d4c41">' + esc(sock.label + " (" + sock.dir + ")") + "</text>" : "") +
        '<rect x="2" y="' + y + '" width="120" height="22" rx="4" fill="#fff3e0" stroke="#ffb74d"/>' +
        '<text x="8" y="' + (y + 15) + '">' + esc(wakeSource(j)) + "</text>" +
        '<line x1="124" y1="' + (y + 11) + '" x2="196" y2="' + (y + 11) + '" stroke="#546e7a" stroke-width="2" marker-end="url(#arrow)"' + (co ? ' stroke-dasharray="4 3"' : "") + "/>" +
        (co ? '<text x="130" y="' + (y + 8) + '" fill="#8d6e63">coalesced</text>' : "") +
        '<rect x="198" y="' + y + '" width="128" height="22" rx="4" fill="#e3f2fd" stroke="#90caf9"/>' +
        '<text x="204" y="' + (y + 15) + '"><title>' + esc(taskLabel(a(j))) + "</title>" + esc(short(taskLabel(a(j)), 20)) + "</text></g>";
    });
    svg.innerHTML = out;
  }
  const STEPS = ["remote wakes", "reactor: park or look", "timers fired", "poll ready tasks", "poll block_on"];
  function frameSteps(f) {
    const lit = new Set();
    if (fKind[f] === 1) {
      let i = fStart[f];
      while (code(i) !== POLL_START) i++;
      lit.add(a(i) === 0 ? 4 : 3);
      return lit;
    }
    for (let j = fStart[f]; j < fEnd[f]; j++) {
      const k = code(j);
      if (k === PARK_START || k === IO) lit.add(1);
      if (k === TIMERS) { lit.add(1); lit.add(2); }
      if (k === WAKE && b(j) === 2) lit.add(0);
    }
    return lit;
  }
  function drawLoop(f) {
    const t = fTurn[f];
    const done = new Set();
    for (let g = tFirstFrame[t]; g < f; g++) frameSteps(g).forEach((x) => done.add(x));
    const lit = frameSteps(f);
    const cx = 130, cy = 122, r = 88;
    let out = '<circle cx="' + cx + '" cy="' + cy + '" r="' + r + '" fill="none" stroke="#cfd8dc" stroke-width="6"/>';
    out += '<text x="' + cx + '" y="' + (cy - 4) + '" text-anchor="middle" font-size="16" font-weight="bold">turn ' + tNumber[t] + "</text>";
    out += '<text x="' + cx + '" y="' + (cy + 14) + '" text-anchor="middle" fill="#607d8b">' +
      (tPark[t] > 0 ? "parked " + fmt(tPark[t]) : "no park") + "</text>";
    STEPS.forEach((name, n) => {
      const ang = -Math.PI / 2 + (n * 2 * Math.PI) / STEPS.length;
      const x = cx + r * Math.cos(ang), y = cy + r * Math.sin(ang);
      const cls = lit.has(n) ? "lit" : done.has(n) ? "done" : "skip";
      const ty = y + (Math.sin(ang) > 0.3 ? 30 : -18);
      out += '<g class="step ' + cls + '" data-step="' + n + '"><circle cx="' + x + '" cy="' + y + '" r="13"/>' +
        '<text x="' + x + '" y="' + (y + 4) + '" text-anchor="middle" font-weight="bold">' + (n + 1) + "</text>" +
        '<text x="' + Math.min(Math.max(x, 50), 210) + '" y="' + ty + '" text-anchor="middle">' + name + "</text></g>";
    });
    $("loop").innerHTML = out;
  }
  function drawCounters(s) {
    const rows = COUNTERS.map(([k, name]) => {
      const changed = before && before.c[k] !== s.c[k];
      return '<tr data-key="' + k + '"' + (changed ? ' class="changed"' : "") + "><td>" +
        esc(name).replace(/^ +/, "&nbsp;&nbsp;") + '</td><td class="n">' + s.c[k] + "</td></tr>";
    });
    $("counters").innerHTML = rows.join("");
  }
  function why(f, s) {
    const t = fTurn[f];
    const parts = [];
    if (fKind[f] === 2) return "turn " + tNumber[t] + ": nothing was ready and nothing to wait for in this step.";
    if (fKind[f] === 0) {
      let park = -1, parkEnd = -1, io = 0, timers = 0;
      const wakes = [];
      for (let j = fStart[f]; j < fEnd[f]; j++) {
        const k = code(j);
        if (k === PARK_START) park = j;
        if (k === PARK_END) parkEnd = j;
        if (k === IO) io += a(j);
        if (k === TIMERS) timers += a(j);
        if (k === WAKE || k === COALESCED) wakes.push(j);
      }
      const byTimer = wakes.filter((j) => b(j) === 4), byIo = wakes.filter((j) => b(j) === 3),
        remote = wakes.filter((j) => b(j) === 2);
      const sites = [...new Set(byTimer.map((j) => siteName(waitSite[j])).filter((x) => x))];
      let head;
      if (park >= 0) {
        head = "parked " + (parkEnd >= 0 ? fmt(at(parkEnd) - at(park)) : "until the end of the recording");
        if (byTimer.length) head += " until " + (sites.length ? "the timer of the wait at " + sites.join(", ") : "a timer") + " was due";
        else if (io) head += " until a socket was ready (" + io + " I/O event" + (io > 1 ? "s" : "") + ")";
        else if (remote.length) head += " until another thread woke the loop";
      } else {
        head = "looked at I/O and timers without blocking";
        if (io) head += ": " + io + " I/O event" + (io > 1 ? "s" : "");
      }
      parts.push(head);
      const say = (list, who) => {
        if (list.length) parts.push(who + " woke " + [...new Set(list.map((j) => taskLabel(a(j))))].join(", ") +
          (list.some((j) => code(j) === COALESCED) ? " (some wakes coalesced: already queued)" : ""));
      };
      say(byTimer, "the timer" + (timers > 1 ? "s" : ""));
      const socks = [...new Set(byIo.map((j) => socketOf(waitSite[j])).filter((x) => x).map((x) => x.label + " (" + x.dir + ")"))];
      say(byIo, socks.length ? "I/O on " + socks.join(", ") : "I/O");
      say(remote, "another thread");
      if (!wakes.length) parts.push("no task was woken");
      return parts.join("; ") + ".";
    }
    let i = fStart[f];
    while (code(i) !== POLL_START) i++;
    const t0 = a(i);
    let end = -1, yielded = -1, stall = -1;
    const woke = [], spawned = [];
    for (let j = i; j < fEnd[f]; j++) {
      const k = code(j);
      if (k === POLL_END && end < 0) end = j;
      if (k === YIELDED) yielded = j;
      if (k === STALL) stall = j;
      if (k === WAKE || k === COALESCED) woke.push(j);
      if (k === SPAWNED) spawned.push(j);
    }
    let head = "polled " + taskLabel(t0);
    const from = resumeSite[i];
    head += from >= 0 ? ", which resumed from " + siteName(from) : "";
    const dur = end >= 0 ? fmt(at(end) - at(i)) : "?";
    if (end >= 0 && b(end)) head += ": it returned Ready after " + dur + " (finished)";
    else {
      head += ": it returned Pending after " + dur;
      if (yielded >= 0 && b(yielded) >= 0) head += " at " + siteName(b(yielded));
      if (yielded >= 0 && d(yielded)) head += " because its cooperative budget was spent";
      else if (s.queue.includes(t0)) head += " and is queued again (it woke itself)";
      else if (yielded >= 0 || end >= 0) {
        const w = yielded >= 0 ? yielded : end;
        head += "; it waits for " + waitKind(w)[1];
      }
    }
    parts.push(head);
    const others = woke.filter((j) => a(j) !== t0);
    if (others.length) parts.push("it woke " + [...new Set(others.map((j) => taskLabel(a(j))))].join(", "));
    if (spawned.length) parts.push("it spawned " + spawned.map((j) => taskLabel(a(j))).join(", "));
    if (stall >= 0) parts.push("it was a STALL: the loop could do nothing else for " + fmt(c(stall)));
    return parts.join("; ") + ".";
  }

  // ---- the timeline ----
  const canvas = $("timeline");
  function drawTimeline() {
    const dpr = window.devicePixelRatio || 1;
    const W = Math.max(100, canvas.clientWidth), H = 70;
    canvas.width = W * dpr; canvas.height = H * dpr;
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const px = new Uint8Array(W); // 1 busy, 2 parked, 4 stall
    const slot = W / Math.max(1, TN);
    if (slot >= 3) {
      for (let t = 0; t < TN; t++) {
        const x = t * slot;
        let bx = x;
        if (tPark[t] > 0) {
          g.fillStyle = "#b0bec5"; g.fillRect(x, H - 12, slot * 0.45, 2);
          bx = x + slot * 0.45;
        }
        const busy = Math.max(1, tEnd[t] - tStart[t] - tPark[t]);
        const h = 12 + Math.min(42, 5 * Math.log10(busy));
        g.fillStyle = tStall[t] ? "#e53935" : "#42a5f5";
        g.fillRect(bx, H - 10 - h, Math.max(1, x + slot - bx - 1), h);
      }
    } else {
      for (let t = 0; t < TN; t++) {
        const p = Math.min(W - 1, Math.floor(t * slot));
        px[p] |= 1 | (tPark[t] > 0 ? 2 : 0) | (tStall[t] ? 4 : 0);
      }
      for (let x = 0; x < W; x++) {
        if (!px[x]) continue;
        if (px[x] & 2) { g.fillStyle = "#b0bec5"; g.fillRect(x, H - 12, 1, 2); }
        g.fillStyle = px[x] & 4 ? "#e53935" : "#42a5f5";
        g.fillRect(x, px[x] & 4 ? 6 : 26, 1, px[x] & 4 ? H - 16 : H - 36 - (px[x] & 2 ? 4 : 0));
      }
    }
    if (cur >= 0) {
      const t = fTurn[cur];
      g.fillStyle = "rgba(255,179,0,.85)";
      g.fillRect(Math.floor(t * slot), 0, Math.max(2, slot), 5);
      g.fillRect(Math.floor(t * slot), H - 8, Math.max(2, slot), 8);
    }
  }
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect();
    const t = Math.min(TN - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * TN)));
    goto(tFirstFrame[t]);
  });
  window.addEventListener("resize", drawTimeline);

  // ---- the cursor ----
  function goto(f) {
    if (F === 0) return;
    f = Math.max(0, Math.min(F - 1, f));
    state = stateAt(f);
    cur = f;
    const t = fTurn[f];
    $("turn-no").textContent = tNumber[t];
    $("step-no").textContent = f + 1;
    drawLoop(f);
    drawQueue(state);
    drawPolled(f);
    drawWakes(f);
    drawWaiting(state);
    drawCounters(state);
    $("why").textContent = why(f, state);
    drawTimeline();
  }
  let timer = null;
  function play() {
    if (timer) { clearInterval(timer); timer = null; $("play").textContent = "▶ play"; return; }
    $("play").textContent = "❚❚ pause";
    timer = setInterval(() => { if (cur >= F - 1) play(); else goto(cur + 1); }, 600);
  }
  const turnOf = (f) => fTurn[Math.max(0, Math.min(F - 1, f))];
  $("next").onclick = () => goto(cur + 1);
  $("prev").onclick = () => goto(cur - 1);
  $("first").onclick = () => goto(0);
  $("last").onclick = () => goto(F - 1);
  $("next-turn").onclick = () => goto(fTurn[cur] + 1 < TN ? tFirstFrame[fTurn[cur] + 1] : F - 1);
  $("prev-turn").onclick = () => goto(tFirstFrame[Math.max(0, turnOf(cur) - (cur === tFirstFrame[turnOf(cur)] ? 1 : 0))]);
  $("play").onclick = play;
  document.addEventListener("keydown", (e) => {
    const keys = { ArrowRight: "next", ArrowLeft: "prev", PageDown: "next-turn", PageUp: "prev-turn", Home: "first", End: "last" };
    if (keys[e.key]) { $(keys[e.key]).click(); e.preventDefault(); }
    else if (e.key === " ") { play(); e.preventDefault(); }
  });
  if (F === 0) $("why").textContent = "The recording holds no whole turn.";
  goto(0);
  // For tests and the curious: where the page is, and how long it took to open.
  window.turnstileViewer = { frames: F, turns: TN, goto, frame: () => cur, openMs: performance.now() - T0,
    readyMs: performance.now() };
})();
