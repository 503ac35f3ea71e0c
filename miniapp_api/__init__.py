"""The member mini-program's API (`/miniapp/api/`): login, sessions, the member's
profile, phone, points and privacy rights."""
