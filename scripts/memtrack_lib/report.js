(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('mt-data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var F = {};
  D.fields.forEach(function (f, i) { F[f] = i + 1; });  // site arrays: [frames, ...fields]

  function commas(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sel(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  // The one name a site gets on the page (top table, tooltips): the
  // script's site_name (memtrack_lib.labels: the site's label, short),
  // sent with the data.
  function siteName(i) { return D.siteNames[i]; }

  // ---------------------------------------------------------------- flame graph
  // Two trees: by function (D.flame, the default) and by line
  // (D.flameLines); the "split by line" switch picks one.
  var nodes, parent, kids;
  function useTree(t) {
    nodes = t;
    var N = t.length;
    parent = new Int32Array(N); kids = [];
    for (var i = 0; i < N; i++) { kids.push([]); }
    for (i = 1; i < N; i++) { parent[i] = t[i][0]; kids[t[i][0]].push(i); }
    parent[0] = -1;
  }
  useTree(D.flame);
  var metric = D.flameMetrics.indexOf(D.flameStart);
  var zoom = 0, search = '';
  var box = document.getElementById('flame-box');
  var status = document.getElementById('flame-status');
  var ROW = 18;

  function val(n) { return nodes[n][2 + metric]; }
  function label(n) { return n === 0 ? 'all sites' : D.names[nodes[n][1]]; }
  function colour(n) {
    var s = label(n), h = 0;
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) >>> 0;
    if (n === 0) return '#c6cdd6';
    var hue = metric === 3 ? (h % 25) : 12 + (h % 40);
    return 'hsl(' + hue + ',' + (72 + (h >> 8) % 20) + '%,' + (58 + (h >> 16) % 14) + '%)';
  }
  function describe(n) {
    var total = val(0), v = val(n);
    var pct = total ? (100 * v / total).toFixed(2) : '0.00';
    return label(n) + '\n' + commas(v) + ' ' + D.bytesUnit + ' (' + pct + '% of ' +
      D.flameMetrics[metric] + ')';
  }

  function renderFlame() {
    var W = Math.max(320, Math.floor(box.clientWidth || 960));
    while (box.firstChild) box.removeChild(box.firstChild);
    var chain = [];
    for (var n = zoom; n >= 0; n = parent[n]) chain.unshift(n);
    var zv = val(zoom);
    if (!val(0) || !zv) {
      box.appendChild(el('p', { 'class': 'empty', id: 'flame-empty' },
        'Nothing to draw: ' + (D.flameMetrics[metric] === 'leaked' ? 'no bytes were leaked.' :
        'no bytes for this figure.')));
      box.dataset.root = String(val(0));
      return;
    }
    var items = [];
    chain.forEach(function (c, d) { items.push([c, 0, W, d, c !== zoom]); });
    var stack = [[zoom, 0, chain.length - 1]];
    while (stack.length) {
      var t = stack.pop(), node = t[0], x = t[1], depth = t[2];
      var ks = kids[node].filter(function (k) { return val(k) > 0; });
      ks.sort(function (a, b) { return val(b) - val(a) || a - b; });
      var cx = x;
      for (var j = 0; j < ks.length; j++) {
        var w = W * val(ks[j]) / zv;
        if (w >= 0.4) {
          items.push([ks[j], cx, w, depth + 1, false]);
          stack.push([ks[j], cx, depth + 1]);
        }
        cx += w;
      }
    }
    var maxDepth = 0;
    items.forEach(function (it) { if (it[3] > maxDepth) maxDepth = it[3]; });
    var svg = sel('svg', { width: W, height: (maxDepth + 1) * ROW, id: 'flame',
      'data-metric': D.flameMetrics[metric], 'data-root': String(val(0)),
      'data-split': nodes === D.flame ? 'function' : 'line',
      'data-zoom': String(zoom) });
    var needle = search.toLowerCase(), matched = 0;
    items.forEach(function (it) {
      var n = it[0], g = sel('g', { 'class': 'fr' + (it[4] ? ' anc' : ''),
        'data-node': n, 'data-value': String(val(n)), 'data-depth': String(it[3]) });
      g.dataset.frame = label(n);
      var title = sel('title'); title.textContent = describe(n); g.appendChild(title);
      g.appendChild(sel('rect', { x: it[1].toFixed(2), y: it[3] * ROW,
        width: Math.max(it[2] - 0.2, 0.2).toFixed(2), height: ROW - 1, fill: colour(n) }));
      var chars = Math.floor((it[2] - 6) / 7);
      if (chars >= 3) {
        // Boxes show names folded (memtrack_lib.labels); hover has the full frame.
        var s = n === 0 ? 'all sites: ' + commas(val(0)) + ' ' + D.bytesUnit :
          D.shortNames[nodes[n][1]];
        if (s.length > chars) s = s.slice(0, chars - 1) + '\u2026';
        var tx = sel('text', { x: (it[1] + 3).toFixed(2), y: it[3] * ROW + 13 });
        tx.textContent = s;
        g.appendChild(tx);
      }
      if (needle && n !== 0 && label(n).toLowerCase().indexOf(needle) >= 0) {
        g.setAttribute('class', g.getAttribute('class') + ' match');
      }
      svg.appendChild(g);
    });
    if (needle) {
      // Share of the matching frames, each subtree counted once.
      var total = 0, walk = [0];
      while (walk.length) {
        var m = walk.pop();
        if (m !== 0 && label(m).toLowerCase().indexOf(needle) >= 0) { total += val(m); continue; }
        kids[m].forEach(function (k) { walk.push(k); });
      }
      matched = total;
      status.textContent = 'Search "' + search + '": ' + commas(matched) + ' ' + D.bytesUnit +
        ' (' + (val(0) ? (100 * matched / val(0)).toFixed(2) : '0.00') + '%)';
    }
    box.appendChild(svg);
    box.dataset.root = String(val(0));
  }

  box.addEventListener('click', function (ev) {
    var g = ev.target.closest ? ev.target.closest('g.fr') : null;
    if (!g) return;
    var n = Number(g.getAttribute('data-node'));
    zoom = (n === zoom) ? (parent[n] >= 0 ? parent[n] : 0) : n;
    renderFlame();
  });
  box.addEventListener('mouseover', function (ev) {
    var g = ev.target.closest ? ev.target.closest('g.fr') : null;
    if (!g) return;
    status.textContent = describe(Number(g.getAttribute('data-node'))).replace('\n', ' \u2014 ');
  });
  Array.prototype.forEach.call(document.querySelectorAll('input[name=flame-metric]'), function (r) {
    r.addEventListener('change', function () {
      if (!r.checked) return;
      metric = D.flameMetrics.indexOf(r.value);
      zoom = 0;
      renderFlame();
    });
  });
  document.getElementById('flame-lines').addEventListener('change', function (ev) {
    useTree(ev.target.checked ? D.flameLines : D.flame);
    zoom = 0;
    renderFlame();
  });
  document.getElementById('flame-reset').addEventListener('click', function () {
    zoom = 0; renderFlame();
  });
  document.getElementById('flame-search').addEventListener('input', function (ev) {
    search = ev.target.value.trim();
    if (!search) status.innerHTML = '&nbsp;';
    renderFlame();
  });
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderFlame, 150);
  });
  renderFlame();

  // ---------------------------------------------------------- top-sites table
  var table = document.getElementById('top-table');
  function siteValue(s, key) {
    if (key === 'leaked') return s[F.ldb] + s[F.lib];
    return s[F[key]];
  }
  function siteCell(s, i) {
    var td = el('td', { 'class': 'site' }), fr = s[0];
    // The site's label (memtrack_lib.labels), the full name on hover.
    var lb = D.labels[i];
    td.appendChild(el('span', { 'class': 'frame site-frame', title: lb[1] },
      fr.length ? siteName(i) : '(no stack)'));
    var det = el('details', { 'class': 'stack' });
    det.appendChild(el('summary', null,
      'stack (' + fr.length + ' frame' + (fr.length !== 1 ? 's' : '') + ')'));
    var ol = el('ol');
    fr.forEach(function (f) { ol.appendChild(el('li', { 'class': 'frame' }, D.names[f])); });
    det.appendChild(ol);
    td.appendChild(det);
    return td;
  }
  function sortTable(sort) {
    var col = D.columns.filter(function (c) { return c[0] === sort; })[0];
    if (!col) return;
    var key = col[2], sites = D.sites;
    var order = sites.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      return siteValue(sites[b], key) - siteValue(sites[a], key) ||
        sites[b][F.tb] - sites[a][F.tb] || a - b;
    });
    var shown = D.top === 0 ? order : order.slice(0, D.top);
    var tbody = table.tBodies[0];
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    shown.forEach(function (i, r) {
      var s = sites[i], tr = el('tr', { 'data-site': i });
      tr.appendChild(el('td', { 'class': 'num rank' }, String(r + 1)));
      tr.appendChild(siteCell(s, i));
      D.columns.forEach(function (c) {
        tr.appendChild(el('td', { 'class': 'num', 'data-col': c[0] }, commas(siteValue(s, c[2]))));
      });
      tbody.appendChild(tr);
    });
    var rest = order.slice(shown.length);
    if (table.tFoot) table.removeChild(table.tFoot);
    if (rest.length) {
      var tf = table.createTFoot(), tr = el('tr', { 'class': 'rest' });
      tr.appendChild(el('td'));
      tr.appendChild(el('td', null, commas(rest.length) + ' more site' +
        (rest.length !== 1 ? 's' : '') + ' (together)'));
      D.columns.forEach(function (c) {
        var sum = 0;
        rest.forEach(function (i) { sum += siteValue(sites[i], c[2]); });
        tr.appendChild(el('td', { 'class': 'num' }, commas(sum)));
      });
      tf.appendChild(tr);
    }
    Array.prototype.forEach.call(table.tHead.querySelectorAll('th.sortable'), function (th) {
      th.classList.toggle('sorted', th.getAttribute('data-sort') === sort);
    });
    table.setAttribute('data-sort', sort);
    document.getElementById('top-sort-label').textContent = col[1];
  }
  if (table) {
    Array.prototype.forEach.call(table.tHead.querySelectorAll('th.sortable'), function (th) {
      th.addEventListener('click', function () { sortTable(th.getAttribute('data-sort')); });
    });
  }

  // ------------------------------------------------ chart: snapshot -> its tree
  var chart = document.getElementById('heap-chart');
  if (chart) {
    chart.addEventListener('click', function (ev) {
      var c = ev.target.closest ? ev.target.closest('circle.snap') : null;
      if (!c) return;
      var d = document.getElementById('snap-tree-' + c.getAttribute('data-pos'));
      if (!d) return;
      d.open = true;
      d.classList.add('flash');
      setTimeout(function () { d.classList.remove('flash'); }, 1200);
      d.scrollIntoView({ block: 'nearest' });
    });
  }
  document.body.setAttribute('data-ready', '1');
})();
