//! The HTML page around a figure: inline SVG, inline style, inline script.

use crate::svg::escape;

/// Tooltips from `data-tip`, the labels checkbox, drag rotation of 3-D
/// scatters; marks `<body data-ready="1">` when it ran, `data-error` if a
/// script error occurred.
const SCRIPT: &str = r#"
window.addEventListener('error', function (e) {
  document.body.setAttribute('data-error', String(e.message));
});
(function () {
  var svg = document.querySelector('#figure svg');
  var tip = document.getElementById('tip');
  svg.addEventListener('mousemove', function (e) {
    var el = e.target.closest('[data-tip]');
    if (!el) { tip.hidden = true; return; }
    tip.textContent = el.getAttribute('data-tip');
    tip.style.left = (e.pageX + 12) + 'px';
    tip.style.top = (e.pageY + 12) + 'px';
    tip.hidden = false;
  });
  svg.addEventListener('mouseleave', function () { tip.hidden = true; });
  var box = document.getElementById('labels');
  if (box) {
    var show = function () {
      svg.querySelectorAll('.labels').forEach(function (g) {
        g.setAttribute('display', box.checked ? 'inline' : 'none');
      });
    };
    box.addEventListener('change', show);
    show();
  }
  if (svg.getAttribute('data-3d') === '1') {
    var cx = +svg.getAttribute('data-cx'), cy = +svg.getAttribute('data-cy');
    var radius = +svg.getAttribute('data-radius');
    var yaw = +svg.getAttribute('data-yaw'), pitch = +svg.getAttribute('data-pitch');
    var pts = Array.prototype.slice.call(svg.querySelectorAll('.pt'));
    var layer = pts.length ? pts[0].parentNode : null;
    var labels = {};
    svg.querySelectorAll('.label').forEach(function (t) { labels[t.getAttribute('data-i')] = t; });
    var links = svg.querySelectorAll('.link');
    var place = function () {
      var at = {};
      pts.forEach(function (p) {
        var x = +p.getAttribute('data-x'), y = +p.getAttribute('data-y'), z = +p.getAttribute('data-z');
        var x1 = x * Math.cos(yaw) + z * Math.sin(yaw), z1 = -x * Math.sin(yaw) + z * Math.cos(yaw);
        var y2 = y * Math.cos(pitch) - z1 * Math.sin(pitch), z2 = y * Math.sin(pitch) + z1 * Math.cos(pitch);
        var sx = cx + radius * x1, sy = cy - radius * y2;
        p.setAttribute('transform', 'translate(' + sx.toFixed(2) + ',' + sy.toFixed(2) + ') scale(' + (1 + 0.25 * z2).toFixed(3) + ')');
        p.depth = z2;
        at[p.getAttribute('data-i')] = [sx, sy];
        var label = labels[p.getAttribute('data-i')];
        if (label) { label.setAttribute('x', (sx + 7).toFixed(2)); label.setAttribute('y', (sy + 4).toFixed(2)); }
      });
      links.forEach(function (l) {
        var a = at[l.getAttribute('data-a')], b = at[l.getAttribute('data-b')];
        l.setAttribute('x1', a[0].toFixed(2)); l.setAttribute('y1', a[1].toFixed(2));
        l.setAttribute('x2', b[0].toFixed(2)); l.setAttribute('y2', b[1].toFixed(2));
      });
      pts.slice().sort(function (a, b) { return a.depth - b.depth; })
        .forEach(function (p) { layer.appendChild(p); });
    };
    var drag = null;
    svg.addEventListener('pointerdown', function (e) { drag = [e.clientX, e.clientY, yaw, pitch]; });
    window.addEventListener('pointerup', function () { drag = null; });
    svg.addEventListener('pointermove', function (e) {
      if (!drag) { return; }
      yaw = drag[2] + (e.clientX - drag[0]) * 0.01;
      pitch = Math.max(-1.5, Math.min(1.5, drag[3] + (e.clientY - drag[1]) * 0.01));
      place();
    });
    place();
  }
  document.body.setAttribute('data-ready', '1');
})();
"#;

const STYLE: &str =
    "body{font-family:'DejaVu Sans','Noto Sans',Arial,sans-serif;margin:16px;color:#222}\
#tip{position:absolute;background:#fff;border:1px solid #888;padding:3px 6px;border-radius:3px;\
pointer-events:none;font-size:13px;white-space:pre;box-shadow:1px 1px 3px rgba(0,0,0,.2)}\
svg [data-tip]{cursor:default}svg[data-3d='1']{cursor:grab;touch-action:none}\
.controls{margin:6px 0;font-size:13px;color:#555}";

/// The page around `svg`.
pub(crate) fn page(title: &str, svg: &str, labels: Option<bool>) -> String {
    let mut out = String::with_capacity(svg.len() + SCRIPT.len() + 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    if let Some(checked) = labels {
        out.push_str(&format!(
            "<div class=\"controls\"><label><input type=\"checkbox\" id=\"labels\"{}> labels</label> · hover a point for its token and score</div>\n",
            if checked { " checked" } else { "" }
        ));
    }
    out.push_str("<div id=\"figure\">\n");
    out.push_str(svg);
    out.push_str("\n</div>\n<div id=\"tip\" hidden></div>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}
