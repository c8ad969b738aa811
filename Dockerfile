# Autoencoder Lab: `streamlit run app.py` on port 8501, from the weights and config this repository ships.
#
#   docker build -t autoencoder-lab:cpu .                                  # CPU (the default)
#   docker build --build-arg TORCH_VARIANT=cu128 -t autoencoder-lab:cuda .  # CUDA wheels (run with --gpus all)
#
# TORCH_VARIANT names one of PyTorch's wheel indexes: cpu, or a CUDA build such as cu126 / cu128.
# The CUDA wheels carry their own CUDA runtime, so the same slim base serves both.
FROM python:3.11-slim-bookworm

ARG TORCH_VARIANT=cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
# torch and torchvision first, from PyTorch's index for the variant, within requirements.txt's ranges;
# then the rest from PyPI (torch is already satisfied, so no CUDA wheels come in for the CPU image);
# the package itself (requirements.txt's `-e .`) once its source is in.
RUN grep -E '^(torch|torchvision)[<>=!~ ]' requirements.txt > /tmp/torch.txt \
    && grep -v '^-e ' requirements.txt > /tmp/runtime.txt \
    && pip install --no-cache-dir --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" -r /tmp/torch.txt \
    && pip install --no-cache-dir -r /tmp/runtime.txt \
    && rm /tmp/torch.txt /tmp/runtime.txt

RUN useradd --create-home --uid 10001 app
COPY --chown=10001:10001 . .
RUN pip install --no-cache-dir --no-deps -e .
USER 10001

EXPOSE 8501
# Inside a container the server listens on every address; .streamlit/config.toml gives the rest.
ENV STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"]
# The page names its replica (AE_DEMO_REPLICA) in the sidebar: the container's hostname unless set.
CMD ["sh", "-c", "AE_DEMO_REPLICA=\"${AE_DEMO_REPLICA:-$(hostname)}\" exec streamlit run app.py"]
