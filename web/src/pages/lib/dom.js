// DOM helpers. Every piece of text from a server or a bundle goes in as a
// text node (never as markup), so nothing a server or a bundle says can
// become script; the pages' CSP also requires Trusted Types for script sinks.

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    node.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// kind: "ok" | "bad" | "busy"; the word carries the meaning, the colour only repeats it.
export function setStatus(node, kind, text) {
  node.hidden = false;
  node.className = "status " + kind;
  node.textContent = text;
}

export function byId(id) {
  const n = document.getElementById(id);
  if (!n) throw new Error("missing element #" + id);
  return n;
}

export function readFileText(input) {
  const f = input.files && input.files[0];
  if (!f) return Promise.resolve(null);
  return f.text();
}
