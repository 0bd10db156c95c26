"""Sources: turn what the user named (a file, a folder) into a raw config dict."""
