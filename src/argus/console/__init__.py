"""The operator console: the web application people in a control centre work from."""
