"""Operations that run themselves: the scheduler, statement delivery, the supervised process tree."""
