// The one DOM helper the page's modules share.

/** el makes an element with properties and children (nodes or strings). */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const c of [].concat(children)) {
    if (c != null) node.append(c);
  }
  return node;
}
