// toYAML writes a JSON value as YAML for `pink apply` files: block style,
// strings quoted whenever YAML could read them as something else.
export function toYAML(v, indent = '') {
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return v.map((x) => {
      const inner = toYAML(x, indent + '  ');
      return '\n' + indent + '- ' + (isBlock(x) ? inner.replace(/^\n\s*/, '') : inner);
    }).join('');
  }
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) return '{}';
    return keys.map((k) => {
      const x = v[k];
      return '\n' + indent + scalar(k) + ':' + (isBlock(x) ? toYAML(x, indent + '  ') : ' ' + toYAML(x, indent + '  '));
    }).join('');
  }
  return scalar(v);
}

function isBlock(x) {
  return x && typeof x === 'object' && Object.keys(x).length > 0;
}

function scalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(s) && !/^(true|false|yes|no|on|off|null|y|n|~)$/i.test(s)) return s;
  return JSON.stringify(s);
}

// document is a job spec as an apply file.
export function applyFile(spec) {
  return 'jobs:' + toYAML([spec], '  ').replace(/^\n/, '\n') + '\n';
}
