"""Prefect flows and the command line that run :mod:`s3text` stages. All logic lives in s3text."""
