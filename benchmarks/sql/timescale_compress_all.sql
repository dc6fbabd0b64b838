SELECT compress_chunk(c) FROM show_chunks('heart_rate') c
