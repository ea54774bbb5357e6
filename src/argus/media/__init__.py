"""The media plane: RTSP ingest, RTP depacketizing, the stream hub, fMP4, live out."""
