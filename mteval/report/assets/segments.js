// The report's segment browser (mteval/report/browser.py embeds it and the data): filter, search, sort and page
// through every segment, and open one to see every system's output. No library, no network.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('seg-data').textContent);
  var N = D.src.length, S = D.sys.length;
  var st = {a: D.base, b: D.order[0] === D.base ? D.order[1 % S] : D.order[0], dom: -1, doc: -1, check: '',
            diff: '', q: '', qin: 'all', sort: 'seg', dir: 'asc', page: 0};
  var opened = {}, lower = null;
  var flags = D.flags.map(function (list) {  // per system: segment -> [[check index, detail], ...]
    var by = {};
    list.forEach(function (f) { (by[f[0]] = by[f[0]] || []).push([f[1], f[2]]); });
    return by;
  });

  function esc(t) {
    return String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }
  function el(id) { return document.getElementById(id); }
  function fmt(x, d) { return x === null || x === undefined ? '–' : x.toFixed(d); }

  // Spans index characters as Python does (code points), so an astral character does not shift them.
  function marked(text, spans) {
    if (!spans || !spans.length) { return esc(text); }
    var cps = Array.from(text), out = '', at = 0;
    spans.slice().sort(function (x, y) { return x[0] - y[0] || x[1] - y[1]; }).forEach(function (s) {
      var start = Math.max(s[0], at), end = Math.min(s[1], cps.length);
      if (end <= start) { return; }
      var sev = D.severities[s[2]] || 'minor';
      var title = sev + (s[3] !== null && s[3] !== undefined ? ', confidence ' + s[3].toFixed(2) : '') +
        (s[4] ? ', ' + s[4] : '');
      out += esc(cps.slice(at, start).join('')) + '<mark class="' + sev + '" title="' + esc(title) + '">' +
        esc(cps.slice(start, end).join('')) + '</mark>';
      at = end;
    });
    return out + esc(cps.slice(at).join(''));
  }
  function firstSpans(i, k) { return D.spans.length ? D.spans[0].sys[i][k] : null; }
  function score(m, i, k) { return D.metrics[m].s[i][k]; }
  // B - A, signed so that positive means B is better.
  function gain(m, k) {
    var a = score(m, st.a, k), b = score(m, st.b, k);
    if (a === null || b === null) { return null; }
    return D.metrics[m].hib ? b - a : a - b;
  }

  function options(list, value) {
    return list.map(function (o) {
      return '<option value="' + esc(o[0]) + '"' + (String(o[0]) === String(value) ? ' selected' : '') + '>' +
        esc(o[1]) + '</option>';
    }).join('');
  }
  function control(id, label, html, hidden) {
    return '<label' + (hidden ? ' hidden' : '') + ' for="' + id + '">' + esc(label) + ' ' + html + '</label>';
  }
  function select(id, label, list, value, hidden) {
    return control(id, label, '<select id="' + id + '">' + options(list, value) + '</select>', hidden);
  }
  function counted(names, per) {
    var n = names.map(function () { return 0; });
    per.forEach(function (j) { if (j >= 0) { n[j]++; } });
    return names.map(function (name, j) { return [j, name + ' (' + n[j] + ')']; });
  }

  function buildControls() {
    var systems = D.order.map(function (i) { return [i, D.sys[i] + (i === D.base ? ' (baseline)' : '')]; });
    var sorts = [['seg', 'corpus order']], diffs = [['', 'any']];
    D.metrics.forEach(function (m, j) {
      sorts.push(['d' + j, m.label + ': B − A'], ['a' + j, m.label + ' of A'], ['b' + j, m.label + ' of B']);
      diffs.push(['+' + j, 'B better on ' + m.label], ['-' + j, 'B worse on ' + m.label],
                 ['=' + j, 'B same on ' + m.label]);
    });
    var checks = [['', 'any output'], ['any', 'any check failed (A or B)']].concat(
      D.checks.map(function (c, j) { return [j, c[0] + ': ' + c[1] + ' (A or B)']; }));
    el('seg-controls').innerHTML =
      select('seg-a', 'system A', systems, st.a) + select('seg-b', 'system B', systems, st.b) +
      select('seg-dom', 'domain', [[-1, 'all domains']].concat(counted(D.domains, D.dom)), -1, !D.domains.length) +
      select('seg-doc', 'document', [[-1, 'all documents']].concat(counted(D.docs, D.doc)), -1, !D.docs.length) +
      select('seg-check', 'check', checks, '') + select('seg-diff', 'B against A', diffs, '') +
      control('seg-q', 'search', '<input id="seg-q" type="search" placeholder="text in source, reference or output">') +
      select('seg-qin', 'in', [['all', 'source, reference, A and B'], ['src', 'source'], ['ref', 'reference'],
                               ['hyp', 'outputs of A and B'], ['any', 'every system\u2019s output']], 'all') +
      select('seg-sort', 'sort by', sorts, 'seg') +
      select('seg-dir', 'order', [['asc', 'ascending'], ['desc', 'descending']], 'asc');
    var keys = {'seg-a': 'a', 'seg-b': 'b', 'seg-dom': 'dom', 'seg-doc': 'doc', 'seg-check': 'check',
                'seg-diff': 'diff', 'seg-qin': 'qin', 'seg-sort': 'sort', 'seg-dir': 'dir'};
    Object.keys(keys).forEach(function (id) {
      el(id).addEventListener('change', function (e) {
        var v = e.target.value;
        st[keys[id]] = /^(a|b|dom|doc)$/.test(keys[id]) ? Number(v) : v;
        st.page = 0;
        render();
      });
    });
    el('seg-q').addEventListener('input', function (e) { st.q = e.target.value; st.page = 0; render(); });
  }

  function haystack(k) {
    if (!lower) { lower = {src: D.src.map(lc), ref: D.ref.map(lc), hyp: D.hyp.map(function (h) { return h.map(lc); })}; }
    var a = lower.hyp[st.a][k], b = lower.hyp[st.b][k];
    if (st.qin === 'src') { return [lower.src[k]]; }
    if (st.qin === 'ref') { return [lower.ref[k]]; }
    if (st.qin === 'hyp') { return [a, b]; }
    if (st.qin === 'any') { return lower.hyp.map(function (h) { return h[k]; }); }
    return [lower.src[k], lower.ref[k], a, b];
  }
  function lc(t) { return t.toLowerCase(); }
  function hasCheck(i, k) {
    var f = flags[i][k];
    if (!f) { return false; }
    return st.check === 'any' || f.some(function (x) { return String(x[0]) === st.check; });
  }

  function matching() {
    var q = st.q.trim().toLowerCase(), out = [];
    for (var k = 0; k < N; k++) {
      if (st.dom >= 0 && D.dom[k] !== st.dom) { continue; }
      if (st.doc >= 0 && D.doc[k] !== st.doc) { continue; }
      if (st.check && !hasCheck(st.a, k) && !hasCheck(st.b, k)) { continue; }
      if (st.diff) {
        var g = gain(Number(st.diff.slice(1)), k), c = st.diff.charAt(0);
        if (g === null || (c === '+' && !(g > 0)) || (c === '-' && !(g < 0)) || (c === '=' && g !== 0)) { continue; }
      }
      if (q && !haystack(k).some(function (t) { return t.indexOf(q) >= 0; })) { continue; }
      out.push(k);
    }
    if (st.sort !== 'seg') {
      var m = Number(st.sort.slice(1)), who = st.sort.charAt(0), sign = st.dir === 'desc' ? -1 : 1;
      var key = function (k) {
        if (who === 'd') {
          var a = score(m, st.a, k), b = score(m, st.b, k);
          return a === null || b === null ? null : b - a;
        }
        return score(m, who === 'a' ? st.a : st.b, k);
      };
      var keyed = out.map(function (k) { return [key(k), k]; });
      keyed.sort(function (x, y) {  // unscored segments last, either way; ties in corpus order
        if (x[0] === null || y[0] === null) { return (x[0] === null) - (y[0] === null) || x[1] - y[1]; }
        return sign * (x[0] - y[0]) || x[1] - y[1];
      });
      out = keyed.map(function (x) { return x[1]; });
    } else if (st.dir === 'desc') {
      out.reverse();
    }
    return out;
  }

  function flagText(i, k) {
    return (flags[i][k] || []).map(function (f) { return D.checks[f[0]][0] + ': ' + f[1]; }).join('; ');
  }
  function where(k) {
    var parts = [];
    if (D.dom[k] >= 0) { parts.push(D.domains[D.dom[k]]); }
    // A document id is shown unless the segment id already holds it (WMT ids do: doc:line).
    if (D.doc[k] >= 0 && D.ids[k].indexOf(D.docs[D.doc[k]]) < 0) { parts.push(D.docs[D.doc[k]]); }
    return parts.length ? '<span class="who">' + esc(parts.join(' · ')) + '</span>' : '';
  }
  function text(t, lang, html) { return '<td class="text" lang="' + lang + '">' + (html || esc(t)) + '</td>'; }

  function row(k) {
    var cells = '<th scope="row">' + esc(D.ids[k]) + where(k) + '</th>' + text(D.src[k], D.lang[0]) +
      text(D.ref[k], D.lang[1]) + text(D.hyp[st.a][k], D.lang[1], marked(D.hyp[st.a][k], firstSpans(st.a, k))) +
      text(D.hyp[st.b][k], D.lang[1], marked(D.hyp[st.b][k], firstSpans(st.b, k)));
    D.metrics.forEach(function (m, j) {
      var g = gain(j, k), a = score(j, st.a, k), b = score(j, st.b, k);
      var cls = g === null || g === 0 ? '' : (g > 0 ? ' better' : ' worse');
      cells += '<td class="num"><span class="who">A</span>' + fmt(a, m.d) + '<span class="who">B</span>' +
        fmt(b, m.d) + '<span class="delta' + cls + '">' + (a === null || b === null ? '–' :
        (b - a >= 0 ? '+' : '') + (b - a).toFixed(m.d)) + '</span></td>';
    });
    var fa = flagText(st.a, k), fb = flagText(st.b, k);
    cells += '<td class="flags">' + (fa ? 'A ' + esc(fa) : '') + (fa && fb ? '<br>' : '') + (fb ? 'B ' + esc(fb) : '') +
      '</td><td><button type="button" class="open" data-seg="' + k + '" aria-expanded="' + !!opened[k] +
      '" aria-controls="seg-open-' + k + '">' + (opened[k] ? 'close' : 'open') + '</button></td>';
    var html = '<tr data-seg="' + k + '">' + cells + '</tr>';
    return opened[k] ? html + '<tr class="seg-open" id="seg-open-' + k + '"><td colspan="' + (7 + D.metrics.length) +
      '">' + detail(k) + '</td></tr>' : html;
  }

  // Every system's output for segment k, table order, with its scores, spans and judge errors.
  function detail(k) {
    var head = '<tr><th>system</th>' + D.metrics.map(function (m) { return '<th>' + esc(m.label) + '</th>'; }).join('') +
      '<th>output</th><th>checks</th></tr>';
    var body = D.order.map(function (i) {
      var outs = D.spans.length > 1 ? D.spans.map(function (sp) {
        return '<div><span class="who">' + esc(sp.label) + '</span>' + marked(D.hyp[i][k], sp.sys[i][k]) + '</div>';
      }).join('') : marked(D.hyp[i][k], firstSpans(i, k));
      D.judge.forEach(function (j) {
        var e = j.sys[i][k];
        if (!e) { return; }
        outs += '<div class="judge"><span class="who">' + esc(j.label) + '</span>' + (typeof e === 'string' ? esc(e) :
          '<ul>' + e.map(function (x) {
            return '<li><mark class="' + esc(x[0]) + '">' + esc(x[0]) + '</mark> ' + esc(x[1]) + ': ' +
              '<q lang="' + D.lang[1] + '">' + esc(x[2]) + '</q></li>';
          }).join('') + '</ul>') + '</div>';
      });
      var pick = i === st.a ? ' (A)' : (i === st.b ? ' (B)' : '');
      return '<tr class="' + (pick ? 'pick' : '') + '"><td>' + esc(D.sys[i]) + esc(pick) +
        (i === D.base ? '<span class="who">baseline</span>' : '') + '</td>' +
        D.metrics.map(function (m, j) { return '<td class="num">' + fmt(score(j, i, k), m.d) + '</td>'; }).join('') +
        '<td class="text" lang="' + D.lang[1] + '">' + outs + '</td><td class="flags">' + esc(flagText(i, k)) + '</td></tr>';
    }).join('');
    return '<p class="muted">Source: <span lang="' + D.lang[0] + '">' + esc(D.src[k]) + '</span><br>Reference: ' +
      '<span lang="' + D.lang[1] + '">' + esc(D.ref[k]) + '</span></p><table class="seg-all"><thead>' + head +
      '</thead><tbody>' + body + '</tbody></table>';
  }

  function render() {
    var keys = matching(), pages = Math.max(1, Math.ceil(keys.length / D.page));
    st.page = Math.min(st.page, pages - 1);
    var shown = keys.slice(st.page * D.page, (st.page + 1) * D.page);
    var head = '<tr><th scope="col">id</th><th scope="col">source</th><th scope="col">reference</th>' +
      '<th scope="col">A: ' + esc(D.sys[st.a]) + '</th><th scope="col">B: ' + esc(D.sys[st.b]) + '</th>' +
      D.metrics.map(function (m) { return '<th scope="col">' + esc(m.label) + '<br>A, B, B − A</th>'; }).join('') +
      '<th scope="col">checks</th><th scope="col"><span class="sr">open</span></th></tr>';
    var table = el('seg-table');
    table.tHead.innerHTML = head;
    table.tBodies[0].innerHTML = shown.map(row).join('');
    el('seg-count').textContent = keys.length + ' of ' + N + ' segments' + (keys.length ? ', ' + (st.page * D.page + 1) +
      '–' + (st.page * D.page + shown.length) + ' shown' : '');
    el('seg-pager').innerHTML = '<button type="button" data-page="-1"' + (st.page ? '' : ' disabled') +
      '>‹ previous</button> <span>page ' + (st.page + 1) + ' of ' + pages + '</span> <button type="button" ' +
      'data-page="1"' + (st.page + 1 < pages ? '' : ' disabled') + '>next ›</button>';
    var box = el('segments');
    box.setAttribute('data-matching', keys.length);
    box.setAttribute('data-shown', shown.join(','));
  }

  buildControls();
  el('seg-table').addEventListener('click', function (e) {
    var b = e.target.closest('button.open');
    if (!b) { return; }
    var k = Number(b.getAttribute('data-seg'));
    opened[k] = !opened[k];
    render();
    var again = document.querySelector('button.open[data-seg="' + k + '"]');
    if (again) { again.focus(); }
  });
  el('seg-pager').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-page]');
    if (!b) { return; }
    st.page += Number(b.getAttribute('data-page'));
    render();
    var same = el('seg-pager').querySelector('button[data-page="' + b.getAttribute('data-page') + '"]');
    if (same && !same.disabled) { same.focus(); }
  });
  render();
  if (window.performance && performance.mark) { performance.mark('segments-ready'); }
}());
