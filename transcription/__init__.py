"""Qt-free audio decoding, models registry, the faster-whisper engine and transcription jobs."""
