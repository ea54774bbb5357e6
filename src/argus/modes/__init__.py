"""Camera modes: what a camera serves when (enforcement by day, crime prevention otherwise, an
incident override), which access purposes each admits, and which PTZ tour runs."""
