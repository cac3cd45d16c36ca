// A tiny DOM builder. User text only ever becomes text nodes (textContent); nothing here parses
// HTML, so a message like `<img src=x onerror=...>` shows literally.

/** Creates an element: h('button', {class: 'x', onclick: fn}, 'Label', child, ...). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'class') {
        el.className = value;
      } else if (key === 'dataset') {
        Object.assign(el.dataset, value);
      } else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Text with the given words wrapped in <mark>, built from text nodes only. */
export function highlighted(text, words) {
  const terms = words.map((w) => w.toLowerCase()).filter((w) => w.length > 0);
  if (terms.length === 0) return [text];
  const lower = text.toLowerCase();
  const parts = [];
  let i = 0;
  while (i < text.length) {
    let best = -1;
    let bestLen = 0;
    for (const t of terms) {
      const at = lower.indexOf(t, i);
      if (at !== -1 && (best === -1 || at < best || (at === best && t.length > bestLen))) {
        best = at;
        bestLen = t.length;
      }
    }
    if (best === -1) {
      parts.push(text.slice(i));
      break;
    }
    if (best > i) parts.push(text.slice(i, best));
    parts.push(h('mark', null, text.slice(best, best + bestLen)));
    i = best + bestLen;
  }
  return parts;
}

/** Says something to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  const line = h('p', null, text);
  region.appendChild(line);
  while (region.childNodes.length > 5) region.removeChild(region.firstChild);
}
