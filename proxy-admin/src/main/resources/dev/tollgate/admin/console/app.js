// The console's shell: sign-in, the role, and hash routing to the pages. Each page module exports
// render(container, context) and may return a function that stops what it started (a live tail, a timer).

import { api, ApiError, session } from './api.js';
import * as overview from './overview.js';
import * as log from './log.js';
import * as tunnels from './tunnels.js';
import * as listeners from './listeners.js';
import * as events from './events.js';

const pages = { overview, log, tunnels, listeners, events };
const $ = (id) => document.getElementById(id);
let role = null;
let stopPage = null;

async function signIn(token) {
    session.signIn(token);
    try {
        role = (await api('/api/v1/whoami')).role;
    } catch (error) {
        session.signOut();
        role = null;
        throw error;
    }
}

function signOut() {
    session.signOut();
    role = null;
    leavePage();
    $('page').replaceChildren();
    show();
    $('token').focus();
}

function leavePage() {
    if (stopPage) {
        stopPage();
        stopPage = null;
    }
}

function show() {
    const signedIn = role !== null;
    $('sign-in').hidden = signedIn;
    $('page').hidden = !signedIn;
    $('nav').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    $('who').textContent = signedIn ? 'Signed in as ' + role : '';
    $('who').dataset.role = role ?? '';
    if (signedIn) {
        route();
    }
}

async function route() {
    leavePage();
    const name = location.hash.replace(/^#\/?/, '') || 'overview';
    const page = pages[name] ?? pages.overview;
    for (const link of $('nav').querySelectorAll('a')) {
        if (link.getAttribute('href') === '#/' + name) {
            link.setAttribute('aria-current', 'page');
        } else {
            link.removeAttribute('aria-current');
        }
    }
    // Each visit renders into a view of its own: a page still loading when the user moves on finishes into a view
    // no longer in the document, and whatever it started is stopped at once.
    const view = document.createElement('div');
    $('page').replaceChildren(view);
    $('page').dataset.page = name;
    try {
        const stop = (await page.render(view, { role, signOut })) ?? null;
        if (view.isConnected) {
            stopPage = stop;
        } else if (stop) {
            stop();
        }
    } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
            signOut();
            $('sign-in-error').textContent = 'The token is no longer valid: ' + error.message;
            return;
        }
        view.append(Object.assign(document.createElement('p'),
            { className: 'error', textContent: 'Could not load this page: ' + error.message }));
    }
}

$('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('token');
    $('sign-in-error').textContent = '';
    try {
        await signIn(input.value.trim());
        input.value = '';
        show();
        $('main').focus();
    } catch (error) {
        $('sign-in-error').textContent = error instanceof ApiError && error.status === 401
            ? 'That token is not valid. Use the contents of admin.token or auditor.token.'
            : 'Sign-in failed: ' + error.message;
    }
});
$('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', () => {
    if (role !== null) {
        route();
    }
});

// A reload of the tab keeps the session: ask the API again who the stored token belongs to.
if (session.token()) {
    signIn(session.token()).then(show, () => show());
} else {
    show();
}
