"""Autoencoder Lab: pretrained autoencoders, PCA baselines and latent maps for MNIST and Fashion-MNIST.

The modules here never import streamlit, so they work the same from the app, a notebook,
the command line or a test.
"""
