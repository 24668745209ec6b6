// JSON text read as strictly as the C client reads it (jansson with
// JSON_REJECT_DUPLICATES, src/common/json_strict.c): JSON.parse, but an object
// that names a member twice is refused, since JSON.parse would silently keep
// the last one and two verifiers could then see two different documents.
// Keys are compared decoded ("a" and "\u0061" are the same name).

// Throws on malformed JSON or a duplicate member name; returns the value.
export function parseStrict(text) {
  if (typeof text !== 'string') throw new TypeError('JSON text expected');
  const value = JSON.parse(text); // well-formedness first: the scan below may assume it
  const stack = []; // per open container: a Set of names (object) or null (array)
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const name = JSON.parse(text.slice(i, j + 1));
        if (top.has(name)) throw new SyntaxError(`duplicate member name ${JSON.stringify(name)}`);
        top.add(name);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return value;
}
