// Calls to the admin API with the token the user pasted. The token lives in sessionStorage (this tab only, gone
// when it closes), travels only in an Authorization header, never in a URL or a cookie.

const TOKEN_KEY = 'tollgate.token';

export const session = {
    token: () => sessionStorage.getItem(TOKEN_KEY),
    signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
    signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer other than 2xx: the status and the API's one-line {"error": ...}. */
export class ApiError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

function headers(accept) {
    return { Authorization: 'Bearer ' + session.token(), Accept: accept };
}

async function fail(response) {
    let message = response.status + ' ' + response.statusText;
    try {
        message = (await response.json()).error || message;
    } catch (notJson) {
        // keep the status line
    }
    return new ApiError(response.status, message);
}

/** Sends one call and returns its JSON body (null for 204); throws ApiError for any other status. */
export async function api(path, { method = 'GET', body, signal } = {}) {
    const init = { method, headers: headers('application/json'), signal, credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
        throw await fail(response);
    }
    return response.status === 204 ? null : response.json();
}

/** A query string from the non-empty fields of an object. */
export function query(fields) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined && value !== null && String(value).trim() !== '') {
            params.set(key, String(value).trim());
        }
    }
    const text = params.toString();
    return text ? '?' + text : '';
}

/**
 * Downloads a CSV answer as a file. The token must go as a header, so the browser cannot simply follow a link:
 * the body is fetched, then saved from a blob: URL that holds the bytes, not the token.
 */
export async function downloadCsv(path, fileName) {
    const response = await fetch(path, { headers: headers('text/csv'), credentials: 'omit', cache: 'no-store' });
    if (!response.ok) {
        throw await fail(response);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Follows /api/v1/access-log/tail: calls onRow(row) for each new row until signal aborts. EventSource cannot send
 * an Authorization header, so this reads the stream with fetch and parses Server-Sent Events itself (the subset
 * the server sends: id, data, comments). When the server ends a stream (it does after 10 minutes) or it breaks,
 * it reconnects after the last row seen; onState(text) says what it is doing.
 */
export async function tail(fields, onRow, onState, signal) {
    let after = fields.after;
    while (!signal.aborted) {
        try {
            onState('following');
            const response = await fetch('/api/v1/access-log/tail' + query({ ...fields, after }),
                { headers: headers('text/event-stream'), credentials: 'omit', cache: 'no-store', signal });
            if (!response.ok) {
                const error = await fail(response);
                if (response.status !== 503) {
                    throw error;
                }
                onState('waiting: ' + error.message);
            } else {
                after = await readEvents(response.body, (id, data) => {
                    after = id;
                    onRow(JSON.parse(data));
                }, after);
            }
        } catch (error) {
            if (signal.aborted) {
                break;
            }
            if (error instanceof ApiError) {
                onState('stopped: ' + error.message);
                throw error;
            }
            onState('reconnecting');
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    onState('stopped');
}

async function readEvents(body, onEvent, after) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let lastId = after;
    for (;;) {
        const { value, done } = await reader.read();
        if (done) {
            return lastId;
        }
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id = null;
            const data = [];
            for (const line of block.split('\n')) {
                if (line.startsWith('id:')) {
                    id = line.slice(3).trim();
                } else if (line.startsWith('data:')) {
                    data.push(line.slice(5).replace(/^ /, ''));
                }
            }
            if (data.length > 0) {
                lastId = id ?? lastId;
                onEvent(lastId, data.join('\n'));
            }
        }
    }
}
