// Overview: health, the writer and journal, live counters (from /api/v1/stats, answered from memory), and over a
// chosen range the traffic chart and the top lists (from the summary endpoints, answered from roll-up tables).

import uPlot from './vendor/uplot/uPlot.esm.js';
import { api, ApiError, query } from './api.js';
import { el, table, note, bytes, duration } from './dom.js';

const RANGES = {
    hour: { label: 'Last hour', ms: 3_600_000, bucket: 'minute', bucketSeconds: 60 },
    day: { label: 'Last day', ms: 86_400_000, bucket: 'hour', bucketSeconds: 3600 },
    week: { label: 'Last week', ms: 7 * 86_400_000, bucket: 'hour', bucketSeconds: 3600 },
};
const COLOURS = ['#1a7f37', '#cf222e', '#9a6700', '#0969da', '#8250df', '#bf3989', '#57606a', '#1b7c83'];
const TOPS = [
    ['host', 'requests', 'Top hosts by requests'], ['host', 'bytes', 'Top hosts by bytes'],
    ['client', 'requests', 'Top clients by requests'], ['client', 'bytes', 'Top clients by bytes'],
    ['user', 'requests', 'Top users by requests'], ['user', 'bytes', 'Top users by bytes'],
    ['reason', 'requests', 'Refusals by reason'],
];

/** A summary endpoint's answer, or null when the daemon has none yet (404: an older daemon). */
async function summary(path) {
    try {
        return await api(path);
    } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
            return null;
        }
        throw error;
    }
}

function stat(name, label, value) {
    return [el('dt', {}, label), el('dd', { 'data-stat': name }, value)];
}

export async function render(container) {
    const [health, stats, open] = await Promise.all([
        api('/api/v1/health'), api('/api/v1/stats'), api('/api/v1/tunnels')]);
    const totals = stats.totals;
    const refusals = Object.entries(totals.refusalsByOutcome);
    container.append(
        el('h1', {}, 'Overview'),
        el('p', {}, 'Node ', el('strong', {}, stats.node), ', up ', duration(stats.uptimeMs),
            ' (since ', stats.startedAt, '). Counters are live, since the daemon started.'),
        el('div', { class: 'cards' },
            el('section', { class: 'card', 'aria-labelledby': 'h-health' }, el('h2', { id: 'h-health' }, 'Health'),
                el('dl', {}, stat('status', 'Status', health.status), stat('store', 'Store', health.store),
                    health.reason ? stat('reason', 'Reason', health.reason) : null,
                    stat('journal-records', 'Journal: records not yet stored', health.journal?.records ?? ''),
                    stat('journal-bytes', 'Journal on disk', bytes(health.journal?.bytes)),
                    stat('journal-age', 'Oldest unstored waited', (health.journal?.oldestUnstoredAgeMs ?? 0) + ' ms'))),
            el('section', { class: 'card', 'aria-labelledby': 'h-traffic' }, el('h2', { id: 'h-traffic' }, 'Traffic'),
                el('dl', {}, stat('requests', 'Requests', totals.requests),
                    stat('tunnels', 'Tunnels open now', open.tunnels.length),
                    stat('connections', 'Client connections open', totals.activeConnections),
                    stat('bytes-from-clients', 'Bytes from clients', bytes(totals.bytesFromClients)),
                    stat('bytes-to-clients', 'Bytes to clients', bytes(totals.bytesToClients)),
                    stat('upstream-failures', 'Upstream failures', totals.upstreamFailures))),
            el('section', { class: 'card', 'aria-labelledby': 'h-writer' }, el('h2', { id: 'h-writer' }, 'Access-log writer'),
                el('dl', {}, stat('queue-depth', 'Queue depth', stats.accessLog.queueDepth),
                    stat('written', 'Written', stats.accessLog.written), stat('failed', 'Failed', stats.accessLog.failed),
                    stat('dropped', 'Dropped', stats.accessLog.dropped),
                    stat('unlogged', 'Unlogged', stats.accessLog.unlogged))),
            el('section', { class: 'card', 'aria-labelledby': 'h-refusals' }, el('h2', { id: 'h-refusals' }, 'Refusals'),
                refusals.length === 0 ? note('None since the daemon started.')
                    : el('dl', {}, refusals.map(([outcome, count]) => stat('refused-' + outcome, outcome, count))))));

    const select = el('select', { id: 'range' }, Object.entries(RANGES).map(
        ([key, range]) => el('option', { value: key }, range.label)));
    const summaryArea = el('div', { id: 'summary' });
    container.append(el('h2', {}, 'Over time'),
        el('p', { class: 'controls' }, el('label', { for: 'range' }, 'Range '), select), summaryArea);
    const charts = [];
    const observer = new ResizeObserver(() => charts.forEach((chart) => chart.setSize(size(summaryArea))));
    observer.observe(summaryArea);
    const load = async () => {
        charts.splice(0).forEach((chart) => chart.destroy());
        summaryArea.replaceChildren(note('Loading…'));
        const range = RANGES[select.value];
        const until = new Date();
        const since = new Date(until.getTime() - range.ms);
        const span = { since: since.toISOString(), until: until.toISOString() };
        const [series, ...tops] = await Promise.all([
            summary('/api/v1/summary/series' + query({ ...span, bucket: range.bucket, by: 'outcome' })),
            ...TOPS.map(([dim, metric]) => summary('/api/v1/summary/top' + query({ ...span, dim, metric, limit: 10 })))]);
        summaryArea.replaceChildren();
        if (series === null || series.points.length === 0) {
            summaryArea.append(note('No data yet: the daemon has no traffic summary for this range.'));
        } else {
            const requests = el('figure', { class: 'chart', id: 'chart-requests' }, el('figcaption', {}, 'Requests per second by outcome'));
            const traffic = el('figure', { class: 'chart', id: 'chart-bytes' }, el('figcaption', {}, 'Bytes per second, each way'));
            summaryArea.append(requests, traffic);
            charts.push(...seriesCharts(series, range.bucketSeconds, requests, traffic, size(summaryArea)));
        }
        const lists = el('div', { class: 'cards' });
        summaryArea.append(lists);
        TOPS.forEach(([dim, metric, title], i) => lists.append(topList(dim, metric, title, tops[i])));
    };
    select.addEventListener('change', () => load().catch(showError(summaryArea)));
    await load().catch(showError(summaryArea));
    return () => {
        observer.disconnect();
        charts.forEach((chart) => chart.destroy());
    };
}

function showError(area) {
    return (error) => area.replaceChildren(note('Could not load the summary: ' + error.message, 'error'));
}

function size(area) {
    return { width: Math.max(280, Math.min(area.clientWidth, 1200)), height: 220 };
}

function seriesCharts(series, bucketSeconds, requestsFigure, bytesFigure, { width, height }) {
    const times = series.points.map((p) => Date.parse(p.t) / 1000);
    const outcomes = [...new Set(series.points.flatMap((p) => Object.keys(p.counts)))].sort();
    const perSecond = (value) => Math.round((value / bucketSeconds) * 1000) / 1000;
    const requests = new uPlot({
        width, height,
        series: [{}, ...outcomes.map((outcome, i) => ({ label: outcome, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
        axes: [{}, { label: 'req/s' }],
    }, [times, ...outcomes.map((o) => series.points.map((p) => perSecond(p.counts[o] ?? 0)))], requestsFigure);
    const traffic = new uPlot({
        width, height,
        series: [{}, { label: 'from clients', stroke: COLOURS[3], width: 2 }, { label: 'to clients', stroke: COLOURS[4], width: 2 }],
        axes: [{}, { label: 'bytes/s', size: 70 }],
    }, [times, series.points.map((p) => perSecond(p.bytesFromClient)), series.points.map((p) => perSecond(p.bytesToClient))],
    bytesFigure);
    return [requests, traffic];
}

function topList(dim, metric, title, answer) {
    const section = el('section', { class: 'card', 'data-top': dim + '-' + metric }, el('h3', {}, title));
    if (answer === null || answer.rows.length === 0) {
        section.append(note('No data yet.'));
        return section;
    }
    section.append(table(title, [
        [dim === 'reason' ? 'Reason' : dim[0].toUpperCase() + dim.slice(1), (r) => r.key ?? '(none)'],
        ['Requests', (r) => r.requests],
        ['From clients', (r) => bytes(r.bytesFromClient)],
        ['To clients', (r) => bytes(r.bytesToClient)],
    ], answer.rows));
    return section;
}
