"""The Hugging Face Hub: reachability probe, model identity, availability, loading, devices."""
