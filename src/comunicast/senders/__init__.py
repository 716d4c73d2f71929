"""Sender adapters: where a rendered message goes. Found through entry points `comunicast.senders`."""
