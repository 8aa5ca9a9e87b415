"""Server-rendered pages for people: sign-in, incidents list, incident page."""
