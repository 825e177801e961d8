// The access log: the API's filters as a form, pages by cursor, a row's every column, a CSV export of what the
// filter matches, and a live tail of new rows that match it.

import { api, downloadCsv, query, tail } from './api.js';
import { el, table, note, bytes } from './dom.js';

const OUTCOMES = ['OK', 'DENIED', 'AUTH_REQUIRED', 'AUTH_FAILED', 'LOOP', 'BAD_REQUEST', 'UPSTREAM_UNREACHABLE',
    'UPSTREAM_TIMEOUT', 'UPSTREAM_RESET', 'CLIENT_ABORT', 'CLIENT_TIMEOUT', 'OVERLOADED', 'CLIENT_TLS_REJECTED',
    'UPSTREAM_TLS_INVALID', 'RATE_LIMITED'];
const KINDS = ['FORWARD', 'TUNNEL', 'INTERCEPT'];
const FIELDS = [
    ['since', 'Since (ISO-8601)', 'text', '2026-12-01T00:00:00Z'], ['until', 'Until', 'text', ''],
    ['host', 'Host', 'text', 'example.com or *.example.com'], ['client', 'Client address', 'text', ''],
    ['method', 'Method', 'text', 'GET'], ['status', 'Status', 'text', '404 or 5xx'],
    ['listener', 'Listener', 'text', ''], ['username', 'User', 'text', ''], ['node', 'Node', 'text', ''],
    ['outcome', 'Outcome', OUTCOMES], ['kind', 'Kind', KINDS], ['limit', 'Rows a page', 'number', '100'],
];
const LIVE_ROWS_KEPT = 500;

function field([name, label, type, placeholder]) {
    const id = 'f-' + name;
    const input = Array.isArray(type)
        ? el('select', { id, name }, el('option', { value: '' }, 'any'), type.map((v) => el('option', { value: v }, v)))
        : el('input', { id, name, type, placeholder, min: type === 'number' ? 1 : null, max: type === 'number' ? 10000 : null });
    return el('div', { class: 'field' }, el('label', { for: id }, label), input);
}

const COLUMNS = [
    ['Id', (r) => r.id], ['Time', (r) => r.ts], ['Client', (r) => r.client_addr], ['User', (r) => r.username],
    ['Method', (r) => r.method], ['Host', (r) => r.host + (r.port ? ':' + r.port : '')], ['Path', (r) => r.path],
    ['Status', (r) => r.status], ['Outcome', (r) => r.outcome],
    ['Bytes in/out', (r) => bytes(r.bytes_from_client) + ' / ' + bytes(r.bytes_to_client)],
];

/** A row's every column, shown under it when its button is pressed. */
function detailsButton(row) {
    return el('button', {
        type: 'button', class: 'link', 'aria-expanded': 'false', 'data-details': row.id,
        onclick: (event) => {
            const button = event.currentTarget;
            const tr = button.closest('tr');
            const open = tr.nextElementSibling?.classList.contains('details');
            if (open) {
                tr.nextElementSibling.remove();
            } else {
                tr.after(el('tr', { class: 'details' }, el('td', { colspan: COLUMNS.length + 1 },
                    el('dl', { class: 'record' }, Object.entries(row).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? '—')])))));
            }
            button.setAttribute('aria-expanded', String(!open));
        },
    }, 'Details');
}

function rowsTable(caption, rows) {
    return table(caption, [...COLUMNS, ['', detailsButton]], rows, (r) => ({ 'data-id': r.id }));
}

export async function render(container) {
    const form = el('form', { id: 'log-filter', class: 'filter', method: 'post' }, FIELDS.map(field),
        el('div', { class: 'actions' },
            el('button', { type: 'submit' }, 'Search'),
            el('button', { type: 'button', id: 'export-csv' }, 'Export matching rows as CSV'),
            el('button', { type: 'button', id: 'live-tail', 'aria-pressed': 'false' }, 'Follow new rows')));
    const status = el('p', { id: 'log-status', class: 'note', role: 'status' });
    const results = el('div', { id: 'log-results' });
    const live = el('section', { id: 'live', 'aria-labelledby': 'live-title', hidden: true },
        el('h2', { id: 'live-title' }, 'New rows (newest first)'), el('p', { id: 'live-state', role: 'status' }),
        rowsTable('Rows that arrived while following', []));
    container.append(el('h1', {}, 'Access log'), form, status, live, results);

    let controller = null;
    const filter = () => Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ''));
    const cursors = [];

    const search = async (after) => {
        status.textContent = 'Loading…';
        const page = await api('/api/v1/access-log' + query({ ...filter(), after }));
        results.replaceChildren(rowsTable(page.records.length + ' row(s)' + (after ? ' after id ' + after : ''), page.records));
        const pager = el('p', { class: 'pager' });
        if (cursors.length > 0) {
            pager.append(el('button', { type: 'button', onclick: () => { cursors.pop(); run(cursors.at(-1)); } }, 'Previous page'));
        }
        if (page.next !== null) {
            pager.append(el('button', { type: 'button', id: 'next-page', onclick: () => { cursors.push(page.next); run(page.next); } }, 'Next page'));
        }
        results.append(pager);
        status.textContent = page.records.length === 0 ? 'No rows match.' : '';
    };
    const run = (after) => search(after).catch((error) => { status.textContent = ''; results.replaceChildren(note(error.message, 'error')); });

    form.addEventListener('submit', (event) => {
        event.preventDefault();
        cursors.length = 0;
        run();
        if (controller) {
            startTail();
        }
    });
    container.querySelector('#export-csv').addEventListener('click', async () => {
        const { limit, ...fields } = filter();
        status.textContent = 'Exporting…';
        try {
            await downloadCsv('/api/v1/access-log' + query(fields), 'tollgate-access-log.csv');
            status.textContent = 'Exported.';
        } catch (error) {
            status.textContent = 'Export failed: ' + error.message;
        }
    });

    const tailButton = container.querySelector('#live-tail');
    const stopTail = () => {
        controller?.abort();
        controller = null;
        tailButton.setAttribute('aria-pressed', 'false');
        tailButton.textContent = 'Follow new rows';
    };
    const startTail = () => {
        stopTail();
        controller = new AbortController();
        tailButton.setAttribute('aria-pressed', 'true');
        tailButton.textContent = 'Stop following';
        live.hidden = false;
        const body = live.querySelector('tbody');
        const { limit, ...fields } = filter();
        tail(fields, (row) => {
            const rendered = rowsTable('', [row]).querySelector('tbody tr');
            body.prepend(rendered);
            while (body.rows.length > LIVE_ROWS_KEPT) {
                body.lastElementChild.remove();
            }
        }, (state) => { live.querySelector('#live-state').textContent = 'Live tail: ' + state; }, controller.signal)
            .catch((error) => { live.querySelector('#live-state').textContent = 'Live tail stopped: ' + error.message; stopTail(); });
    };
    tailButton.addEventListener('click', () => (controller ? stopTail() : startTail()));

    await search();
    return stopTail;
}
