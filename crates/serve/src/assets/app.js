// Glossa's pages: search as you type (from the JSON API) and the t-SNE
// pictures of unit pages, loaded after the lists so they never hold them up.
(function () {
  'use strict';

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // One path segment, as the server writes links: only letters, digits, - and _ bare.
  function part(text) {
    return encodeURIComponent(text).replace(/[.!~*'()]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  function tokenLink(base, token) {
    var label = token.charAt(0) === ' '
      ? '<span class="sp">␣</span>' + escapeHtml(token.slice(1))
      : escapeHtml(token);
    return '<a class="tok" href="' + base + '/token/' + part(token.trim()) + '">' + label + '</a>';
  }

  function scoreCell(score, max) {
    var share = max > 0 ? Math.min(100, Math.abs(score) / max * 100) : 0;
    return '<td class="score"><span class="bar' + (score < 0 ? ' neg' : '') + '" style="width:' +
      share.toFixed(1) + '%"></span><span class="num">' + score.toFixed(4) + '</span></td>';
  }

  function hitRow(base, hit, max) {
    var unit, list, entry;
    if (hit.kind === 'neuron') {
      unit = '<a href="' + base + '/neuron/' + hit.layer + '/' + hit.unit + '">neuron ' + hit.unit + '</a>';
      list = hit.side + ' ' + hit.polarity;
      entry = tokenLink(base, hit.token);
    } else {
      unit = '<a href="' + base + '/head/' + hit.layer + '/' + hit.unit + '">head ' + hit.unit + '</a>';
      list = hit.circuit.toUpperCase() + ' ' + hit.polarity;
      entry = tokenLink(base, hit.src_token) + ' → ' + tokenLink(base, hit.dst_token);
    }
    return '<tr><td><a href="' + base + '/layer/' + hit.layer + '">' + hit.layer + '</a></td><td>' +
      unit + '</td><td>' + list + '</td><td class="rank">' + hit.rank + '</td><td>' + entry +
      '</td>' + scoreCell(hit.score, max) + '<td class="z">' + hit.z.toFixed(2) + '</td></tr>';
  }

  function setUpSearch(form) {
    var dataset = form.getAttribute('data-dataset');
    var base = '/d/' + part(dataset);
    var api = '/api/v1/datasets/' + part(dataset) + '/search';
    var input = document.getElementById('q');
    var results = document.getElementById('results');
    var status = document.getElementById('status');
    var timer = null;
    var latest = 0;

    function params() {
      var out = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (value !== '') { out.append(name, value); }
      });
      return out;
    }

    function run() {
      var query = params();
      history.replaceState(null, '', base + '/search' + (query.toString() ? '?' + query : ''));
      if (!input.value.trim()) { results.innerHTML = ''; status.textContent = ''; return; }
      query.set('limit', '50');
      var ticket = ++latest;
      fetch(api + '?' + query).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (ticket !== latest) { return; }
        if (!answer.ok) {
          results.innerHTML = '';
          status.textContent = answer.body.error ? answer.body.error.message : 'the search failed';
          return;
        }
        var hits = answer.body.hits;
        var total = answer.body.total;
        status.textContent = hits.length ? (total > hits.length ? hits.length + ' of ' + total : hits.length) +
          ' hit' + (total === 1 ? '' : 's') + ', most unusual first (|z|: how far a score stands out of its own list)' :
          'no list holds ' + input.value;
        if (!hits.length) { results.innerHTML = ''; return; }
        var max = hits.reduce(function (m, h) { return Math.max(m, Math.abs(h.score)); }, 0);
        results.innerHTML = '<table class="lists hits"><thead><tr><th>layer</th><th>unit</th>' +
          '<th>list</th><th class="rank">rank</th><th>entry</th><th class="score">score</th><th class="z">z</th></tr></thead><tbody>' +
          hits.map(function (h) { return hitRow(base, h, max); }).join('') + '</tbody></table>';
      }).catch(function () {
        if (ticket === latest) { status.textContent = 'the server did not answer'; }
      });
    }

    function soon() { clearTimeout(timer); timer = setTimeout(run, 120); }
    form.addEventListener('input', soon);
    form.addEventListener('change', soon);
    form.addEventListener('submit', function (e) { e.preventDefault(); run(); });
    if (input.value.trim()) { run(); }
  }

  function loadPicture(figure) {
    var note = figure.querySelector('p');
    fetch(figure.getAttribute('data-picture')).then(function (response) {
      return response.text().then(function (text) { return { ok: response.ok, text: text }; });
    }).then(function (answer) {
      if (answer.ok) {
        note.remove();
        figure.insertAdjacentHTML('beforeend', answer.text);
      } else {
        var message = 'no picture';
        try { message = 'No picture: ' + JSON.parse(answer.text).error.message; } catch (e) { /* not JSON */ }
        note.textContent = message;
        note.className = 'note';
      }
    }).catch(function () { note.textContent = 'No picture: the server did not answer'; });
  }

  function setUpNeuronJump(input) {
    input.addEventListener('change', function () {
      location.href = input.getAttribute('data-base') + input.value;
    });
  }

  var form = document.getElementById('search');
  if (form) { setUpSearch(form); }
  document.querySelectorAll('[data-picture]').forEach(loadPicture);
  var jump = document.getElementById('neuron');
  if (jump) { setUpNeuronJump(jump); }
}());
