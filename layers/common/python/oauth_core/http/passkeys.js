// Passkeys on the sign-in, second-factor, account and "add a passkey?" pages
// (oauth_core.http.pages). The server puts the WebAuthn options in the form's data attribute;
// this script asks the browser for a passkey, writes the answer (base64url, WebAuthn L3's JSON
// forms) into the form's `credential` field and posts the form, CSRF token and all. Without this
// script, or a browser able to use passkeys, the passkey forms stay hidden and the password works
// as before. On the sign-in page it also tells the server, in the password form's
// `offer_passkey`, that this device could keep a passkey (a platform authenticator that verifies
// its user): only then may a password sign-in be followed by the offer to add one.
"use strict";
(function () {
  const supported = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

  function bytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function text(buffer) {
    const raw = String.fromCharCode(...new Uint8Array(buffer));
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map((d) => Object.assign({}, d, { id: bytes(d.id) }));
  }

  function requestOptions(json) {
    const options = JSON.parse(json);
    options.challenge = bytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function creationOptions(json) {
    const options = JSON.parse(json);
    options.challenge = bytes(options.challenge);
    options.user.id = bytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function common(credential) {
    return {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function assertionJSON(credential) {
    const r = credential.response;
    const found = common(credential);
    found.response = {
      clientDataJSON: text(r.clientDataJSON),
      authenticatorData: text(r.authenticatorData),
      signature: text(r.signature),
    };
    if (r.userHandle) found.response.userHandle = text(r.userHandle);
    return JSON.stringify(found);
  }

  function attestationJSON(credential) {
    const r = credential.response;
    const found = common(credential);
    found.response = {
      clientDataJSON: text(r.clientDataJSON),
      attestationObject: text(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : [],
    };
    return JSON.stringify(found);
  }

  function say(where, message) {
    const status = where.querySelector(".passkey-status");
    if (status) status.textContent = message;
  }

  function failed(error, creating, withPassword) {
    // NotAllowedError: the user closed the browser's dialog, or it timed out.
    const name = error && error.name;
    if (creating) {
      if (name === "InvalidStateError") return "This device already holds one of your passkeys.";
      if (name === "NotAllowedError") return "No passkey was made. Try again when you are ready.";
      return "Your browser could not make a passkey here.";
    }
    const next = withPassword ? " Try again, or use your password." : " Try again.";
    if (name === "NotAllowedError") return "No passkey was used." + next;
    return "Your browser could not use a passkey here." + next;
  }

  function signIn(offer) {
    // The offer sits inside the sign-in form, whose request id and CSRF token it posts.
    const json = offer.dataset.passkeyGet;
    const form = offer.closest("form");
    const unsupported = document.getElementById("passkey-unsupported");
    let pending = null;
    offer.hidden = false;
    if (unsupported) unsupported.hidden = true;
    tellIfThisDeviceCanKeepOne(form);

    function submit(credential) {
      form.elements.credential.value = assertionJSON(credential);
      if (form.elements.password) form.elements.password.value = ""; // not needed: not sent
      form.action = offer.dataset.passkeyAction;
      form.submit();
    }

    async function offerInAutofill() {
      // Conditional mediation: the browser lists passkeys in the username field's suggestions
      // (a form without such a field, a second-factor step's, has only the button).
      if (!form.querySelector('input[autocomplete~="webauthn"]')) return;
      if (typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return;
      if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
      pending = new AbortController();
      try {
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(json),
          mediation: "conditional",
          signal: pending.signal,
        });
        if (credential) submit(credential);
      } catch (error) {
        // Aborted for the button's request, or nothing chosen: the form stays as it is.
      }
    }

    offer.querySelector("#passkey-button").addEventListener("click", async () => {
      if (pending) pending.abort();
      pending = null;
      say(offer, "");
      try {
        const credential = await navigator.credentials.get({ publicKey: requestOptions(json) });
        if (credential) submit(credential);
      } catch (error) {
        say(offer, failed(error, false, !!form.elements.password));
        offerInAutofill();
      }
    });
    offerInAutofill();
  }

  function tellIfThisDeviceCanKeepOne(form) {
    const field = form.elements.offer_passkey;
    const check = PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable;
    if (!field || typeof check !== "function") return;
    check.call(PublicKeyCredential).then(
      (able) => {
        if (able) field.value = "1";
      },
      () => {},
    );
  }

  function register(form) {
    const json = form.dataset.passkeyCreate;
    const unsupported = document.getElementById("passkey-unsupported");
    form.hidden = false;
    if (unsupported) unsupported.hidden = true;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      say(form, "");
      try {
        const credential = await navigator.credentials.create({ publicKey: creationOptions(json) });
        if (!credential) return;
        form.elements.credential.value = attestationJSON(credential);
        form.submit();
      } catch (error) {
        say(form, failed(error, true));
      }
    });
  }

  function ours(rpId) {
    // Only where the options' RP ID is this page's host (or a suffix of it): elsewhere (a
    // development stack opened at 127.0.0.1, whose passkeys are localhost's) the browser would
    // refuse, so the password stays the only offer.
    const host = location.hostname;
    return host === rpId || host.endsWith("." + rpId);
  }

  function start() {
    if (!supported) return;
    const offer = document.getElementById("passkey-sign-in");
    if (offer && ours(JSON.parse(offer.dataset.passkeyGet).rpId)) signIn(offer);
    const createForm = document.getElementById("passkey-create");
    if (createForm && ours(JSON.parse(createForm.dataset.passkeyCreate).rp.id)) {
      register(createForm);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
