// Sign-in page: POST /api/session sets the HttpOnly session cookie; then back to the dashboard view asked for.
"use strict";

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const status = document.getElementById("signin-status");
  status.className = "status"; status.textContent = "Signing in…";
  const response = await fetch("/api/session", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ user_name: form.get("user_name"), password: form.get("password") }),
  });
  if (response.ok) {
    const next = new URLSearchParams(window.location.search).get("next") || "#/";
    window.location.assign(`/${next.startsWith("#") ? next : "#/"}`);
    return;
  }
  const body = await response.json().catch(() => ({}));
  status.className = "status error"; status.textContent = body.detail || `sign-in failed (${response.status})`;
});
