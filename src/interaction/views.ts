import { html, type SafeHtml } from './html.ts';

// Server-rendered pages. No inline script or style: the CSP allows only our own /assets.

function layout(title: string, body: SafeHtml, options: { script?: string } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · cells-auth</title>
<link rel="stylesheet" href="/assets/cells-auth.css">
${options.script ? html`<script src="/assets/${options.script}" defer></script>` : ''}
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>`.value;
}

export interface LoginView {
  action: string;
  csrf: string;
  clientName: string;
  login?: string;
  error?: string;
}

/** The focus goes where typing starts: the login, or the password once the login is known (a hint, a retry). */
export function loginPage(v: LoginView): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="lead">to continue to <strong>${v.clientName}</strong></p>
${v.error ? html`<p class="error" role="alert" id="login-error">${v.error}</p>` : ''}
<form method="post" action="${v.action}" autocomplete="on" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="login">Login</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required${v.login ? '' : html` autofocus`} value="${v.login ?? ''}"${v.error ? html` aria-describedby="login-error"` : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${v.login ? html` autofocus` : ''}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${v.action.replace(/\/login$/, '/abort')}" class="secondary">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit" class="link">Cancel</button>
</form>`,
  );
}

export interface ConsentView {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  login: string;
  scopes: string[];
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'confirm who you are',
  email: 'see your e-mail address',
  profile: 'see your name and login',
  pydio: 'use your files on this server',
  offline: 'stay signed in when you are away',
  offline_access: 'stay signed in when you are away',
};

export function consentPage(v: ConsentView): string {
  return layout(
    'Allow access',
    html`<h1>Allow access?</h1>
<p class="lead"><strong>${v.clientName}</strong> asks to act for <strong>${v.login}</strong>. It wants to:</p>
<ul class="scopes">${v.scopes.map((s) => html`<li><code>${s}</code> ${SCOPE_TEXT[s] ?? ''}</li>`)}</ul>
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit">Allow</button>
</form>
<form method="post" action="${v.abortAction}" class="secondary">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit" class="link">Deny</button>
</form>`,
  );
}

export function errorPage(status: number, title: string, description: string): string {
  return layout(
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${description}</p>
<p class="hint">Error ${status}. Go back to the application and try again.</p>`,
  );
}

export function logoutPage(form: SafeHtml, host: string): string {
  return layout(
    'Sign out',
    html`<h1>Sign out?</h1>
<p class="lead">Do you want to sign out from ${host}?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="link">No, stay signed in</button>`,
  );
}

export function signedOutPage(clientName?: string): string {
  return layout(
    'Signed out',
    html`<h1>Signed out</h1>
<p class="lead">You have signed out${clientName ? html` of ${clientName}` : ''}. You can close this page.</p>`,
  );
}

export interface OobView {
  code?: string;
  error?: string;
  errorDescription?: string;
}

/** SPEC §1: the out-of-band page shows the code (or the error) with a copy button. */
export function oobPage(v: OobView): string {
  if (v.code) {
    return layout(
      'Your code',
      html`<h1>Copy this code</h1>
<p class="lead">Paste it into the application that asked you to sign in.</p>
<div class="code-row">
<input id="code" class="code" type="text" readonly value="${v.code}" aria-label="Authorization code">
<button type="button" id="copy" data-target="code">Copy</button>
</div>
<p class="hint" id="copy-status" role="status" aria-live="polite"></p>`,
      { script: 'oob.js' },
    );
  }
  return layout(
    'Sign-in failed',
    html`<h1>Sign-in failed</h1>
<p class="error" role="alert">${v.errorDescription ?? v.error ?? 'No code was received.'}</p>
${v.error ? html`<p class="hint">Error code: <code>${v.error}</code></p>` : ''}`,
  );
}
