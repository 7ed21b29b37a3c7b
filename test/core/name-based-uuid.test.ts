import { siblingId } from '../../lambda/images/image-conversion';
import { nameBasedUuid } from '../../lambda/core/name-based-uuid';

describe('the ids of images made from one upload set', () => {
  test('are name-based UUIDs (version 5), as RFC 9562 computes them', () => {
    // RFC 9562's example: the DNS namespace and "www.example.com".
    expect(nameBasedUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  test('are the same on every try of a message, and differ between outputs and images', () => {
    const image = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(siblingId(image, 'CT-2.mha')).toBe(siblingId(image, 'CT-2.mha'));
    expect(siblingId(image, 'CT-2.mha')).not.toBe(siblingId(image, 'CT-3.mha'));
    expect(siblingId(image, 'CT-2.mha')).not.toBe(
      siblingId('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'CT-2.mha'),
    );
  });
});
