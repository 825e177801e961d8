// Listeners: state and counters for everyone; start, stop, create and delete for the admin. The auditor sees the
// buttons disabled; the API decides all the same, and its answer (403) is shown if a call is tried anyway.

import { api } from './api.js';
import { el, table, note } from './dom.js';

export async function render(container, { role }) {
    const admin = role === 'admin';
    const message = el('p', { id: 'listener-message', role: 'status' });
    const area = el('div');

    const act = async (label, call) => {
        message.className = 'note';
        message.textContent = label + '…';
        try {
            await call();
            message.textContent = label + ': done.';
        } catch (error) {
            message.className = 'error';
            message.textContent = label + ' refused (' + error.status + '): ' + error.message;
        }
        await load();
    };
    const button = (text, name, onclick) => el('button', {
        type: 'button', 'data-action': text.toLowerCase(), 'data-listener': name, disabled: !admin,
        title: admin ? null : 'needs the admin token', onclick,
    }, text);

    const load = async () => {
        const { listeners } = await api('/api/v1/listeners');
        area.replaceChildren(table(listeners.length + ' listener(s)', [
            ['Name', (l) => l.name], ['State', (l) => l.state], ['Origin', (l) => l.origin],
            ['Address', (l) => l.definition.host + ':' + (l.boundPort ?? l.definition.port)],
            ['Started', (l) => l.startedAt], ['Requests', (l) => l.counters.requests],
            ['Open connections', (l) => l.counters.activeConnections],
            ['', (l) => el('span', { class: 'actions' },
                l.state === 'RUNNING'
                    ? button('Stop', l.name, () => act('Stop ' + l.name, () => api('/api/v1/listeners/' + encodeURIComponent(l.name) + '/stop', { method: 'POST' })))
                    : button('Start', l.name, () => act('Start ' + l.name, () => api('/api/v1/listeners/' + encodeURIComponent(l.name) + '/start', { method: 'POST' }))),
                button('Delete', l.name, () => {
                    if (confirm('Delete listener ' + l.name + '? Open requests get the drain time to finish.')) {
                        act('Delete ' + l.name, () => api('/api/v1/listeners/' + encodeURIComponent(l.name), { method: 'DELETE' }));
                    }
                }))],
        ], listeners, (l) => ({ 'data-listener': l.name, 'data-state': l.state })));
    };

    const create = el('form', { id: 'create-listener', class: 'filter', method: 'post' },
        el('div', { class: 'field' }, el('label', { for: 'new-name' }, 'Name'), el('input', { id: 'new-name', name: 'name', required: true, disabled: !admin })),
        el('div', { class: 'field' }, el('label', { for: 'new-host' }, 'Bind address'), el('input', { id: 'new-host', name: 'host', value: '127.0.0.1', disabled: !admin })),
        el('div', { class: 'field' }, el('label', { for: 'new-port' }, 'Port'), el('input', { id: 'new-port', name: 'port', type: 'number', min: 0, max: 65535, required: true, disabled: !admin })),
        el('div', { class: 'actions' }, el('button', { type: 'submit', disabled: !admin }, 'Create listener')));
    create.addEventListener('submit', (event) => {
        event.preventDefault();
        const data = new FormData(create);
        const body = { name: data.get('name'), host: data.get('host'), port: Number(data.get('port')) };
        act('Create ' + body.name, () => api('/api/v1/listeners', { method: 'POST', body }));
    });

    container.append(el('h1', {}, 'Listeners'),
        ...(admin ? [] : [note('Read-only: the auditor token may look but not change anything.')]),
        message, area, el('h2', {}, 'New listener'),
        el('p', {}, 'The other keys (policy, limits) take their defaults; the API takes the whole definition, as in tollgate.json.'),
        create);
    await load();
}
