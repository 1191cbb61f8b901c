// The report's tables (mteval/report/html.py): sort by a header button (click, Enter or Space), fold rows open,
// and print everything open.
window.addEventListener('DOMContentLoaded', function () {
  'use strict';
  function value(group, col) {
    var v = group.rows[0].cells[col].getAttribute('data-v');
    return v === null || v === '' ? null : (isNaN(Number(v)) ? v.toLowerCase() : Number(v));
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector('button');
      if (!button) { return; }
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending', sign = dir === 'ascending' ? 1 : -1;
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir);
        var groups = Array.prototype.slice.call(table.tBodies);
        groups.sort(function (x, y) {  // empty cells (the baseline's p-values) last either way
          var a = value(x, col), b = value(y, col);
          if (a === null || b === null) { return (a === null) - (b === null); }
          return sign * (a < b ? -1 : a > b ? 1 : 0) || x.getAttribute('data-order') - y.getAttribute('data-order');
        });
        groups.forEach(function (g) { table.appendChild(g); });
      });
    });
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button.more');
    if (!b) { return; }
    var row = document.getElementById(b.getAttribute('aria-controls')), open = b.getAttribute('aria-expanded') !== 'true';
    row.hidden = !open;
    b.setAttribute('aria-expanded', String(open));
  });
  var closed = [];
  window.addEventListener('beforeprint', function () {
    closed = Array.prototype.filter.call(document.querySelectorAll('details'), function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () { closed.forEach(function (d) { d.open = false; }); });
});
