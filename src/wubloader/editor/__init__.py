"""The browser editor: static pages and ES modules, and the aiohttp routes that serve them."""
