"""Two small clients of the server: a backend service (Client Credentials) and a web app
(Authorization Code with PKCE), both calling the same protected API."""
