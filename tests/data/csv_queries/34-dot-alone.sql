SELECT '\.' AS v
