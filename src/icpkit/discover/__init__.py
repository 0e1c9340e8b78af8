"""Evidence: does a profile's score predict outcomes on the user's own labelled history?

- :mod:`icpkit.discover.backtest`: ``icp backtest``. Scores a labelled file with the same
  engine as ``icp score`` and measures how well the fit score and tiers separate won from
  lost accounts (AUC, KS, win rate by tier with 95% intervals, gains by decile,
  calibration, and the MadKudu validation bar). The statistics are pure numpy functions.
"""
