// The live parts of the workbook's book: progress badges and "Check my code".
//
// `cargo workbook book` puts this script into each page it serves, with a <meta> that
// carries its run's token (workbook/src/live.rs). The built book does not contain it:
// opened from disk or through `mdbook serve`, the book is the plain one.
(() => {
  'use strict';
  const meta = document.querySelector('meta[name="workbook-token"]');
  if (!meta) return;
  const token = meta.content;
  const EXIT_MARK = 'workbook-check-exit: ';
  const page = decodeURIComponent(location.pathname.split('/').pop()) || 'index.html';
  const isIntro = page === 'index.html' || page === 'introduction.html';
  const LABEL = {
    passes: '✓ passes',
    fails: '✗ fails',
    'not-started': '· not started',
    unknown: '? not compiled',
  };
  const TITLE = {
    passes: 'Every test of this exercise passed at the last check.',
    fails: 'You have begun this exercise; a test of it failed at the last check.',
    'not-started': 'Not started: its tests still reach the skeleton’s todo!().',
    unknown: 'The lesson did not compile at its last check.',
  };

  let data = null;        // the last progress the server sent
  let checking = false;   // a check started from this page is running
  let offline = false;    // the server stopped
  let panel = null;       // the chapter's panel, under its title
  let result = null;      // where a check's result shows: in the panel, or under a heading
  let resultOf = null;    // the cache entry's signature when the shown result was made
  let busyNote = false;   // the note says that another page's check is running

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const bar = (passed, total) => {
    const outer = el('span', 'wb-bar');
    outer.setAttribute('role', 'progressbar');
    outer.setAttribute('aria-valuemin', '0');
    outer.setAttribute('aria-valuemax', String(total));
    outer.setAttribute('aria-valuenow', String(passed));
    const fill = el('span', 'wb-bar-fill');
    fill.style.width = (total ? (100 * passed) / total : 0) + '%';
    outer.append(fill);
    return outer;
  };

  const summary = (l) => {
    switch (l.state) {
      case 'done': return `Lesson ${l.number} is done: all ${l.total} exercises pass.`;
      case 'broken': return `Lesson ${l.number} does not compile now; at its last check that ` +
        `compiled, ${l.passed_before} of ${l.total} exercises passed.`;
      case 'not-started': return `Lesson ${l.number}: not started; ${l.total} exercises.`;
      default: return `Lesson ${l.number}: ${l.passed} of ${l.total} exercises pass.`;
    }
  };

  const lessonOfPage = () => data && data.lessons.find((x) => x.page === page);

  // ---- the chapter: a badge and a check button by each exercise heading, and the panel

  function renderChapter(l) {
    for (const ex of l.exercises) {
      const heading = document.getElementById(ex.anchor);
      if (!heading) continue;
      let badge = heading.querySelector('.wb-badge');
      if (!badge) {
        badge = el('span');
        const here = el('button', 'wb-check-here', 'check');
        here.type = 'button';
        here.title = `Check my code: runs \`cargo workbook check ${l.number}\` and shows the result here.`;
        here.addEventListener('click', () => runCheck(l.number, heading));
        heading.append(' ', badge, ' ', here);
      }
      badge.className = 'wb-badge wb-' + ex.state;
      badge.dataset.state = ex.state;
      badge.textContent = LABEL[ex.state] || ex.state;
      badge.title = TITLE[ex.state] || '';
    }
    if (!panel) panel = makePanel(l);
    const line = panel.querySelector('.wb-line');
    const shown = l.state === 'broken' ? l.passed_before : l.passed;
    line.replaceChildren(bar(shown, l.total), ' ', el('span', 'wb-summary', summary(l)));
    if (l.changed) {
      line.append(' ', el('span', 'wb-changed', 'Your code changed since that check.'));
    }
    // The exercises at a glance, each linked to its section.
    const list = panel.querySelector('.wb-exercises');
    list.replaceChildren(...l.exercises.map((ex) => {
      const item = el('li');
      const link = el('a', '', `${ex.id} ${ex.title}`);
      link.href = '#' + ex.anchor;
      const badge = el('span', 'wb-badge wb-' + ex.state, LABEL[ex.state] || ex.state);
      badge.title = TITLE[ex.state] || '';
      item.append(link, badge);
      return item;
    }));
    panel.dataset.state = l.state;
    renderBusy();
    renderStale(l);
  }

  function makePanel(l) {
    const p = el('div', 'wb-panel');
    p.id = 'workbook-live';
    p.append(el('div', 'wb-line'), el('ul', 'wb-exercises'));
    const actions = el('div', 'wb-actions');
    const button = el('button', 'wb-check', 'Check my code');
    button.type = 'button';
    button.title = `Runs \`cargo workbook check ${l.number}\`: the same check as in a terminal.`;
    const note = el('span', 'wb-note');
    note.setAttribute('role', 'status');
    actions.append(button, ' ', note);
    result = el('div', 'wb-result');
    result.hidden = true;
    result.append(el('p', 'wb-headline'), el('p', 'wb-stale'), el('pre', 'wb-output'));
    p.append(actions, result);
    button.addEventListener('click', () => runCheck(l.number, null));
    const title = document.querySelector('#content main h1');
    if (title) title.after(p);
    else document.querySelector('#content main')?.prepend(p);
    return p;
  }

  // A check runs (here or from another page): the buttons say so.
  function renderBusy() {
    const running = checking || (data && data.running);
    for (const b of document.querySelectorAll('.wb-check, .wb-check-here')) {
      b.classList.toggle('wb-busy', !!running);
      b.setAttribute('aria-busy', running ? 'true' : 'false');
    }
    const button = panel.querySelector('.wb-check');
    button.textContent = running ? 'Checking…' : 'Check my code';
    const note = panel.querySelector('.wb-note');
    if (data && data.running && !checking) {
      note.textContent = `A check of lesson ${data.running} is running, started from another page.`;
      busyNote = true;
    } else if (busyNote && !running) {
      note.textContent = '';
      busyNote = false;
    }
  }

  // The result shown is older than the cache: a check ran since, in a terminal or a page.
  function renderStale(l) {
    const stale = result.querySelector('.wb-stale');
    let text = '';
    if (!result.hidden && !checking && resultOf !== null) {
      if (l.checked !== resultOf) {
        text = 'A newer check has run since this result (in a terminal, or another page): ' +
          'the badges are up to date. Click “Check my code” to see its details.';
      } else if (l.changed) {
        text = 'Your code changed since this result.';
      }
    }
    stale.textContent = text;
    stale.hidden = text === '';
  }

  async function runCheck(number, heading) {
    const note = panel.querySelector('.wb-note');
    if (offline) {
      note.textContent = 'The book’s server stopped: run `cargo workbook book` again, then reload.';
      return;
    }
    if (checking) {
      note.textContent = 'A check is already running: wait for it to finish.';
      busyNote = false;
      return;
    }
    if (data && data.running) {
      note.textContent = `A check of lesson ${data.running} is already running: wait for it to finish.`;
      busyNote = true;
      return;
    }
    checking = true;
    busyNote = false;
    note.textContent = '';
    renderBusy();
    let response;
    try {
      response = await fetch(`/_workbook/check/${number}`, {
        method: 'POST',
        headers: { 'X-Workbook-Token': token },
      });
    } catch (e) {
      checking = false;
      renderBusy();
      note.textContent = 'The server did not answer: is `cargo workbook book` still running?';
      return;
    }
    if (!response.ok) {
      checking = false;
      renderBusy();
      note.textContent = await response.text();
      return;
    }
    // The result goes where the click was: under the exercise's heading, or in the panel.
    if (heading) heading.after(result);
    else panel.append(result);
    const headline = result.querySelector('.wb-headline');
    const output = result.querySelector('.wb-output');
    result.hidden = false;
    resultOf = null;
    result.querySelector('.wb-stale').hidden = true;
    output.textContent = '';
    panel.dataset.check = 'running';
    const started = Date.now();
    let text = '';
    const running = () => {
      const s = Math.round((Date.now() - started) / 1000);
      headline.textContent = /running the tests/.test(text)
        ? `Running the tests of lesson ${number}… ${s} s`
        : `Compiling lesson ${number}… ${s} s` +
          (s >= 5 ? ' (the first check of a lesson compiles its dependencies too: a minute or more)' : '');
    };
    running();
    const ticker = setInterval(running, 1000);
    const decoder = new TextDecoder();
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        output.textContent = text.split(EXIT_MARK)[0].trimEnd();
        output.scrollTop = output.scrollHeight;
      }
    } catch (e) {
      text += '\n(the connection to the server broke)';
    }
    clearInterval(ticker);
    const [shown, exit] = text.split(EXIT_MARK);
    showOutput(output, shown.trimEnd());
    const code = exit === undefined ? null : parseInt(exit, 10);
    // The check has written the cache: this result is of that entry.
    let focus = null;
    try {
      const now = await (await fetch('/_workbook/progress')).json();
      const l = now.lessons.find((x) => x.number === number);
      resultOf = l ? l.checked : null;
      focus = heading && l ? l.exercises.find((x) => x.anchor === heading.id) : null;
    } catch (e) {
      resultOf = null;
    }
    headline.textContent = verdict(number, shown, code, focus);
    checking = false;
    note.textContent = '';
    panel.dataset.check = code === 0 ? 'done' : 'failing';
    renderBusy();
    headline.scrollIntoView({ block: 'nearest' });
  }

  // The check's output, with the book's addresses in it made links, and the runner's
  // progress bar kept in one piece when a long line wraps.
  function showOutput(output, text) {
    const parts = text.split(/(https?:\/\/(?:127\.0\.0\.1|localhost):\d+\/[^\s)`'"]*|\[[█░]+\])/);
    output.replaceChildren(...parts.map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      if (part.startsWith('[')) return el('span', 'wb-nowrap', part);
      const link = el('a', '', part);
      link.href = part;
      return link;
    }));
  }

  const STATE_WORDS = {
    passes: 'passes',
    fails: 'does not pass yet',
    'not-started': 'is not started',
    unknown: 'cannot be tested: the lesson does not compile',
  };

  // What the check found, in a line; `focus` is the exercise whose button was clicked.
  function verdict(number, text, code, focus) {
    if (code === null) return 'The check ended without a result: see its output below.';
    if (code === 0) {
      return /One step is left/.test(text)
        ? `Every test of lesson ${number} passes; one step is left: the loom models (below).`
        : `Lesson ${number} is done: every test passes.`;
    }
    const next = text.match(/^Exercise (\d+\.\d+): (.*)$/m);
    if (next && focus && focus.id !== next[1]) {
      return `Exercise ${focus.id} ${STATE_WORDS[focus.state] || focus.state}. The check ` +
        `explains the lesson’s first exercise that does not pass: ${next[1]}, ${next[2]} (below).`;
    }
    if (next) return `Next: exercise ${next[1]}, ${next[2]}. Its first failing test says why, below.`;
    if (/does not compile/.test(text)) return `Lesson ${number} does not compile: the compiler’s message is below.`;
    return 'Not done yet: the output is below.';
  }

  // ---- the sidebar: each lesson's state by its link

  function renderSidebar() {
    for (const l of data.lessons) {
      for (const link of document.querySelectorAll('#sidebar a[href]')) {
        const href = link.getAttribute('href').split('#')[0];
        if (href !== l.page && !href.endsWith('/' + l.page)) continue;
        let mark = link.querySelector('.wb-side');
        if (!mark) {
          mark = el('span');
          link.append(mark);
        }
        mark.className = 'wb-side wb-' + l.state;
        mark.dataset.state = l.state;
        mark.textContent = l.state === 'done' ? '✓'
          : l.state === 'broken' ? '?' : `${l.passed}/${l.total}`;
        mark.title = summary(l);
      }
    }
  }

  // ---- the introduction: the whole book's progress

  function renderIntro() {
    let box = document.getElementById('workbook-progress');
    if (!box) {
      const title = document.querySelector('#content main h1');
      if (!title) return;
      box = el('div', 'wb-panel');
      box.id = 'workbook-progress';
      title.after(box);
    }
    const done = data.lessons.filter((l) => l.state === 'done').length;
    const broken = data.lessons.filter((l) => l.state === 'broken').map((l) => l.number);
    let text = `Your progress: ${data.passed} of ${data.total} exercises pass; ` +
      `${done} of ${data.lessons.length} lessons done.`;
    if (broken.length === 1) text += ` Lesson ${broken[0]} does not compile now.`;
    if (broken.length > 1) text += ` Lessons ${broken.join(', ')} do not compile now.`;
    box.replaceChildren(bar(data.passed, data.total), ' ', el('span', 'wb-summary', text));
    box.dataset.passed = String(data.passed);
    box.dataset.total = String(data.total);
  }

  function render() {
    renderSidebar();
    if (isIntro) renderIntro();
    const l = lessonOfPage();
    if (l) renderChapter(l);
  }

  // The server sends the progress at once, then whenever the cache changes.
  const events = new EventSource('/_workbook/events');
  events.addEventListener('progress', (event) => {
    data = JSON.parse(event.data);
    render();
  });
  events.addEventListener('error', () => {
    // The server stopped: stay quiet (no reconnection attempts) and say so once.
    events.close();
    offline = true;
    const note = panel && panel.querySelector('.wb-note');
    if (note) note.textContent = 'The book’s server stopped: run `cargo workbook book` again, then reload.';
  });
})();
