"""Drives the app from outside, as its users' machines do: a real browser (``browser``) and a
websocket client that speaks the browser's messages (``st_protocol``).

Shared by the tests, the benchmarks and the screenshot script. Kept out of ``ae_demo``, whose
modules never import Streamlit (``st_protocol`` needs its protobufs).
"""
