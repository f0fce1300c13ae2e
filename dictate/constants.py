"""Whisper's fixed audio and model constants, derived from each other (units in names)."""

SAMPLE_RATE = 16_000  # Hz
N_FFT = 400  # samples in a 25 ms analysis window
HOP_LENGTH = 160  # samples in a 10 ms hop
CHUNK_LENGTH = 30  # seconds in one Whisper window
N_SAMPLES = CHUNK_LENGTH * SAMPLE_RATE  # 480000 samples in a window
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames in a window
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100 mel frames per second
N_SAMPLES_PER_TOKEN = HOP_LENGTH * 2  # the encoder's conv2 has stride 2
TOKENS_PER_SECOND = SAMPLE_RATE // N_SAMPLES_PER_TOKEN  # 50 audio positions per second
TIME_PRECISION = 1 / TOKENS_PER_SECOND  # 0.02 s per timestamp token step
N_AUDIO_CTX = N_FRAMES // 2  # 1500 encoder positions
