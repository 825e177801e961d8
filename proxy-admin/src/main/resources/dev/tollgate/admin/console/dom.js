// Small helpers to build the page. Every value from the API goes in as text (textContent), never as HTML: a host
// name or path in the access log is whatever a client sent.

/** An element: el('td', { class: 'num' }, 'text', child, ...). Attributes starting with "on" are listeners. */
export function el(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === undefined || value === null || value === false) {
            continue;
        }
        if (name.startsWith('on')) {
            element.addEventListener(name.slice(2), value);
        } else {
            element.setAttribute(name, value === true ? '' : String(value));
        }
    }
    element.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined).map(
        (c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
    return element;
}

/**
 * A table in a scrolling wrapper (narrow screens scroll it sideways): columns are [heading, row => value],
 * rowAttributes(row) adds attributes to each row.
 */
export function table(caption, columns, rows, rowAttributes = () => ({})) {
    return el('div', { class: 'table-wrap' }, el('table', {},
        el('caption', {}, caption),
        el('thead', {}, el('tr', {}, columns.map(([heading]) => el('th', { scope: 'col' }, heading)))),
        el('tbody', {}, rows.map((row) => el('tr', rowAttributes(row),
            columns.map(([, value]) => el('td', {}, value(row) ?? '')))))));
}

/** A message in place of data: "no data yet", an error. */
export function note(text, kind = 'note') {
    return el('p', { class: kind, role: kind === 'error' ? 'alert' : null }, text);
}

export function bytes(n) {
    if (n === null || n === undefined) {
        return '';
    }
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return (unit === 0 ? value : value.toFixed(1)) + ' ' + units[unit];
}

export function duration(ms) {
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    return (d ? d + ' d ' : '') + (d || h ? h + ' h ' : '') + m + ' min';
}
