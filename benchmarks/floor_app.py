"""The floor for the canvas benchmark: a page that only echoes the canvas as six images.

Same canvas, same container key as app.py, no models: what Streamlit's own round trip costs.
"""
import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

st.set_page_config(page_title="Floor", layout="wide")
with st.container(key="draw_canvas"):
    result = st_canvas(stroke_width=22, stroke_color="#ffffff", background_color="#000000", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key="canvas")
image = result.image_data if result is not None and result.image_bytes else None
echo = np.zeros((112, 112), np.uint8) if image is None else image[::2, ::2, :3].max(-1)[:112, :112].astype(np.uint8)
with st.container(key="reconstructions"):
    for column in st.columns(6):
        column.image(echo, width="stretch")
