"""Drug Ratings: peer-to-peer drug ratings by verified physicians."""
