"""What integrators build on: JSON Schemas per event type, examples, the AsyncAPI document."""
